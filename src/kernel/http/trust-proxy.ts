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

/** Longest text kept of a forwarded "address" that is no IP address (a misbehaving proxy's). */
const UNPARSED_MAX = 64;

/**
 * One spelling per client, as the throttle counts it: an IPv4 peer on a dual-stack socket
 * (`::ffff:10.0.0.1`) is `10.0.0.1`, an IPv6 address is in its canonical short lower-case form
 * (`2001:DB8:0:0::1` → `2001:db8::1`), and anything else a trusted proxy forwarded is kept short.
 */
export function normaliseClientAddress(address: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family !== 6) return `unparsed:${address.slice(0, UNPARSED_MAX)}`;
  // isIP takes a zone (fe80::1%eth0, a link-local address) that the URL parser refuses, which
  // made a login forwarded for one a 500; the zone tells interfaces apart, so it stays (short)
  const zoneAt = address.indexOf('%');
  if (zoneAt !== -1) return `${normaliseClientAddress(address.slice(0, zoneAt))}${address.slice(zoneAt, zoneAt + UNPARSED_MAX)}`;
  const canonical = new URL(`http://[${address}]/`).hostname.slice(1, -1);
  // the URL parser writes an IPv4-mapped address in hex (::ffff:a00:1 for ::ffff:10.0.0.1)
  const mapped = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(canonical);
  if (!mapped) return canonical;
  const [high, low] = [Number.parseInt(mapped[1] ?? '0', 16), Number.parseInt(mapped[2] ?? '0', 16)];
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}
