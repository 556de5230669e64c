import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  /** Connections made through the proxy so far. */
  readonly accepted: number;
  /**
   * Drops every open connection at once, both sides (`reset`: the client gets a TCP RST, as
   * from a host that went away, instead of a FIN); new connections are still accepted.
   */
  cut(options?: { reset?: boolean }): void;
  close(): Promise<void>;
}

/**
 * A TCP relay to 127.0.0.1:`targetPort` that a test can cut: the client sees its socket
 * close as it would when a database host goes away, while the target stays up.
 */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket]>();
  let accepted = 0;
  const server = createServer((client) => {
    accepted++;
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cutAll = (reset: boolean): void => {
    for (const [client, upstream] of [...pairs]) {
      if (reset) client.resetAndDestroy();
      else client.destroy();
      upstream.destroy();
    }
    pairs.clear();
  };
  return {
    port: address.port,
    get accepted() {
      return accepted;
    },
    cut(options) {
      cutAll(options?.reset === true);
    },
    close() {
      cutAll(false);
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}
