import type { AddressInfo } from 'node:net';
import { parseListenAddress } from '../address.js';
import { StartupError } from '../startup.js';
import type { HttpApp } from './server.js';

/**
 * Listens on a SPEC-style address and returns the base URL clients can use. `handle`, a socket
 * already listening on that address (the stand-in's), is listened on instead of binding anew.
 */
export async function listen(app: HttpApp, address: string, handle?: object): Promise<string> {
  const { host, port } = parseListenAddress(address);
  const options = { host, port };
  // Node's listen takes `handle` in its options too, and Fastify passes its options on. Not
  // enumerable: for `localhost` Fastify binds its other addresses with copies of the options
  // (Object.assign), and a copy holding the handle would take the socket from the main server.
  if (handle) Object.defineProperty(options, 'handle', { value: handle });
  try {
    await app.listen(options);
  } catch (err) {
    throw listenFailure(err, address);
  }
  const info = app.server.address() as AddressInfo;
  const printable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return `http://${host === 'localhost' ? 'localhost' : printable}:${info.port}`;
}

/**
 * A listen host that does not resolve fails in getaddrinfo with ENOTFOUND, the code a database
 * host that does not resolve has too: said as it is, or the start-up line blames PostgreSQL.
 */
export function listenFailure(err: unknown, address: string): unknown {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { syscall?: unknown; code?: unknown; hostname?: unknown };
  if (e.syscall !== 'getaddrinfo') return err;
  return new StartupError(`cannot listen on ${address}: the host name ${JSON.stringify(String(e.hostname ?? ''))} does not resolve (${String(e.code)})`);
}
