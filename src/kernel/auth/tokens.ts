import { createSigner, createVerifier } from 'fast-jwt';
import type { Database } from '../db/database.js';
import { loadOrCreateSecret } from './secret.js';

export interface TokenClaims {
  /** Subject: the user's id as a string. */
  sub: string;
}

export interface TokenService {
  sign(subject: string): string;
  /** Claims of a valid, unexpired token signed with our key; null for anything else. */
  verify(token: string): TokenClaims | null;
  readonly ttlSeconds: number;
}

export function createTokenService(secret: string, ttlMs: number, issuer: string): TokenService {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlMs, iss: issuer });
  // The cache skips the HMAC for tokens seen before (until they expire): the hot path of every
  // authenticated request.
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: issuer, cache: 10_000, requiredClaims: ['sub', 'exp'] });
  return {
    ttlSeconds: Math.floor(ttlMs / 1000),
    sign: (subject) => signer({ sub: subject }),
    verify(token) {
      try {
        const payload = verifier(token) as { sub?: unknown };
        return typeof payload.sub === 'string' && payload.sub !== '' ? { sub: payload.sub } : null;
      } catch {
        return null;
      }
    },
  };
}

/** The token settings of a service with users (see tokenSettings). */
export interface TokenSettings {
  jwtSecret: string | undefined;
  tokenTtlMs: number;
}

/**
 * The token service of a service with users: signed with JWT_SECRET when set, else with the
 * secret generated once and stored in the service's schema (so restarts and every instance on
 * the database agree).
 */
export async function tokenServiceFor(db: Database, schema: string, settings: TokenSettings, issuer: string): Promise<TokenService> {
  return createTokenService(settings.jwtSecret ?? (await loadOrCreateSecret(db, schema)), settings.tokenTtlMs, issuer);
}
