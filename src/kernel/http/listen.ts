import type { AddressInfo } from 'node:net';
import { parseListenAddress } from '../address.js';
import type { HttpApp } from './server.js';

/** Listens on a SPEC-style address and returns the base URL clients can use. */
export async function listen(app: HttpApp, address: string): Promise<string> {
  const { host, port } = parseListenAddress(address);
  await app.listen({ host, port });
  const info = app.server.address() as AddressInfo;
  const printable = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : info.family === 'IPv6' ? `[${info.address}]` : info.address;
  return `http://${host === 'localhost' ? 'localhost' : printable}:${info.port}`;
}
