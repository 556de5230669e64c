import { isIP } from 'node:net';
import { ConfigError } from '../config.js';

/** Names proxy-addr (Fastify's `trustProxy`) understands for whole address ranges. */
const RANGE_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

function validEntry(entry: string): boolean {
  if (RANGE_NAMES.has(entry)) return true;
  const [address, prefix, ...rest] = entry.split('/');
  if (rest.length > 0 || address === undefined) return false;
  const family = isIP(address);
  if (family === 0) return false;
  if (prefix === undefined) return true;
  if (!/^\d{1,3}$/.test(prefix)) return false;
  return Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * `TRUST_PROXY`: the proxies whose `X-Forwarded-For` is believed, comma-separated addresses,
 * CIDR ranges or the names loopback, linklocal, uniquelocal. Empty trusts nobody: the client
 * address is then the socket's peer, which a client cannot forge.
 */
export function parseTrustProxy(raw: string): string[] {
  const entries = raw
    .split(',')
    .map((e) => e.trim())
    .filter((e) => e !== '');
  for (const entry of entries) {
    if (!validEntry(entry)) throw new ConfigError(`TRUST_PROXY must list IP addresses, CIDR ranges or loopback/linklocal/uniquelocal; got "${entry}"`);
  }
  return entries;
}

/** One spelling per client: an IPv4 peer on a dual-stack socket (`::ffff:10.0.0.1`) is `10.0.0.1`. */
export function normaliseClientAddress(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address.toLowerCase();
}
