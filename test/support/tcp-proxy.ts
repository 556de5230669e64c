import { connect, createServer, type Socket } from 'node:net';

export interface TcpProxy {
  /** The port clients connect to (127.0.0.1). */
  port: number;
  /**
   * Drops every open connection at once, both sides (`reset`: the client gets a TCP RST, as
   * from a host that went away, instead of a FIN); new connections are still accepted.
   */
  cut(options?: { reset?: boolean }): void;
  /**
   * A network cut that closes nothing: bytes stop flowing both ways on open connections, and
   * new ones are refused (the proxy stops listening). `restore()` lets new connections through
   * again; the ones that were cut stay open and silent, as connections to a host that was
   * replaced (a failover) do until TCP gives up on them minutes later.
   */
  blackhole(): void;
  /**
   * A frozen server (SIGSTOP, a paused container): new connections are still accepted — the
   * kernel completes the handshake — but nothing is answered on them or on the open ones.
   */
  freeze(): void;
  restore(): void;
  close(): Promise<void>;
}

/** A TCP relay to 127.0.0.1:`targetPort` that a test can cut while the target stays up. */
export async function startTcpProxy(targetPort: number): Promise<TcpProxy> {
  const pairs = new Set<[Socket, Socket | null]>();
  /** Connections cut by blackhole(): never forwarded again. */
  const silenced = new WeakSet<Socket>();
  let holed = false;
  const server = createServer((client) => {
    if (holed) {
      const pair: [Socket, Socket | null] = [client, null];
      pairs.add(pair);
      client.on('error', () => client.destroy()).on('close', () => pairs.delete(pair));
      return;
    }
    const upstream = connect(targetPort, '127.0.0.1');
    const pair: [Socket, Socket | null] = [client, upstream];
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop).on('close', drop);
    upstream.on('error', drop).on('close', drop);
    client.on('data', (d) => {
      if (!holed && !silenced.has(client)) upstream.write(d);
    });
    upstream.on('data', (d) => {
      if (!holed && !silenced.has(client)) client.write(d);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  const cutAll = (reset: boolean): void => {
    for (const [client, upstream] of [...pairs]) {
      if (reset) client.resetAndDestroy();
      else client.destroy();
      upstream?.destroy();
    }
    pairs.clear();
  };
  return {
    port: address.port,
    cut(options) {
      cutAll(options?.reset === true);
    },
    blackhole() {
      holed = true;
      for (const [client] of pairs) silenced.add(client);
      server.close();
    },
    freeze() {
      holed = true;
      for (const [client] of pairs) silenced.add(client);
    },
    restore() {
      holed = false;
      for (const [client] of pairs) silenced.add(client);
      if (!server.listening) server.listen(address.port, '127.0.0.1');
    },
    close() {
      holed = false;
      cutAll(false);
      return new Promise((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    },
  };
}
