import { createHash, timingSafeEqual } from 'node:crypto';

const digest = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * A fixed secret (shard token, operator token) checked against `Authorization: Bearer …`.
 * Digests are compared so the comparison takes the same time whatever the presented length.
 */
export class SharedSecret {
  private readonly expected: Buffer;

  constructor(secret: string) {
    this.expected = digest(secret);
  }

  /** The bearer token of an Authorization header, if it has one. */
  static presented(authorization: string | undefined): string | undefined {
    return /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '')?.[1];
  }

  matches(presented: string): boolean {
    return timingSafeEqual(digest(presented), this.expected);
  }
}
