import { connect, type Socket } from 'node:net';

/** A raw TCP connection to a test server, for clients no HTTP library would be (slow, silent, idle). */
export interface RawConnection {
  socket: Socket;
  /** Everything the server sent so far. */
  received(): string;
  /** Resolves once the server closed the connection: milliseconds since it was opened, and what it sent. */
  closed: Promise<{ afterMs: number; data: string }>;
  /** Resolves when `text` has arrived (or rejects at the deadline). */
  waitFor(text: string, timeoutMs: number): Promise<void>;
  /** Writes `text` one character now and one every `everyMs` after, until the server closes the connection. */
  dribble(text: string, everyMs: number): void;
}

export function openRaw(baseUrl: string): Promise<RawConnection> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname);
    const openedAt = performance.now();
    let data = '';
    const listeners = new Set<() => void>();
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      data += chunk;
      for (const l of listeners) l();
    });
    // a reset after the server gave up is an expected ending here
    socket.on('error', () => undefined);
    const closed = new Promise<{ afterMs: number; data: string }>((res) => socket.once('close', () => res({ afterMs: performance.now() - openedAt, data })));
    socket.once('connect', () =>
      resolve({
        socket,
        received: () => data,
        closed,
        waitFor(text, timeoutMs) {
          return new Promise((res, rej) => {
            const check = () => {
              if (!data.includes(text)) return;
              listeners.delete(check);
              clearTimeout(timer);
              res();
            };
            const timer = setTimeout(() => {
              listeners.delete(check);
              rej(new Error(`"${text}" not received within ${timeoutMs} ms; got ${JSON.stringify(data)}`));
            }, timeoutMs);
            listeners.add(check);
            check();
          });
        },
        dribble(text, everyMs) {
          let i = 0;
          const next = () => {
            if (socket.destroyed || !socket.writable) return clearInterval(timer);
            socket.write(text[i % text.length] ?? ' ');
            i++;
          };
          // the first byte at once, as a client that starts its request on connecting
          const timer = setInterval(next, everyMs);
          next();
          socket.once('close', () => clearInterval(timer));
        },
      }),
    );
    socket.once('error', reject);
  });
}
