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

/** Tokens remembered as verified; past this many the oldest is forgotten first. */
const VERIFIED_CACHE_SIZE = 10_000;

/**
 * `now` is the clock expiry is judged by (tests move it); the HMAC check itself is fast-jwt's.
 */
export function createTokenService(secret: string, ttlMs: number, issuer: string, now: () => number = Date.now): TokenService {
  const signer = createSigner({ key: secret, algorithm: 'HS256', expiresIn: ttlMs, iss: issuer });
  const verifier = createVerifier({ key: secret, algorithms: ['HS256'], allowedIss: issuer, requiredClaims: ['sub', 'exp'] });
  // Every authenticated request verifies its token, and a client sends the same one until it
  // expires. fast-jwt's own cache still hashes the token (SHA-256) and re-checks the claims on a
  // hit, ≈ 3 µs of a 40 µs request; a map keyed by the token string itself costs a lookup. Only
  // tokens that passed verification are kept, with their expiry, which a hit checks again.
  const verified = new Map<string, { claims: TokenClaims; expiresAtMs: number }>();
  return {
    ttlSeconds: Math.floor(ttlMs / 1000),
    sign: (subject) => signer({ sub: subject }),
    verify(token) {
      const known = verified.get(token);
      if (known) {
        if (now() < known.expiresAtMs) return known.claims;
        verified.delete(token);
        return null;
      }
      let payload: { sub?: unknown; exp?: unknown };
      try {
        payload = verifier(token) as { sub?: unknown; exp?: unknown };
      } catch {
        return null;
      }
      if (typeof payload.sub !== 'string' || payload.sub === '' || typeof payload.exp !== 'number') return null;
      const expiresAtMs = payload.exp * 1000;
      if (now() >= expiresAtMs) return null;
      const claims = { sub: payload.sub };
      if (verified.size >= VERIFIED_CACHE_SIZE) verified.delete(verified.keys().next().value as string);
      verified.set(token, { claims, expiresAtMs });
      return claims;
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
