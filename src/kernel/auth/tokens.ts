import { createSigner, createVerifier } from 'fast-jwt';

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
