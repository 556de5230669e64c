import { createServer, type Server } from 'node:http';
import { parseListenAddress } from '../address.js';
import { answerStalledConnection } from './client-errors.js';
import { hostFault, limitOptions, type HttpLimits } from './limits.js';
import { listenFailure } from './listen.js';
import { kernelOutcomes } from './outcome.js';
import { answerConnect } from './unrouted-answer.js';

/** A listening stand-in for a service that cannot start yet. */
export interface StandbyServer {
  /**
   * Gives up its listening socket, still listening, for the service to listen on (`listen`'s
   * `handle`); it goes on answering the requests it has taken, each closing its connection.
   */
  handOver(): object;
  /** Stops listening and cuts its connections off: the start is given up. */
  close(): Promise<void>;
}

const UNAVAILABLE = JSON.stringify({ error: kernelOutcomes.database_unavailable.message });
const ALIVE = JSON.stringify({ status: 'ok' });

/**
 * What a service answers while it waits for an unreachable PostgreSQL at start-up, on its own
 * address: `/healthz` 200 (the process is up), everything else — `/readyz` included —
 * `503 {"error": "database unavailable"}`, as the running service answers during an outage.
 * Every answer closes its connection, so the client's next request reaches the real server
 * once it has taken the address over.
 */
export async function startStandbyServer(address: string, limits: HttpLimits): Promise<StandbyServer> {
  // the service's own limits, checked as often, and slow clients answered as the service does
  const options = limitOptions(limits);
  const server: Server = createServer({ ...options.http, keepAliveTimeout: options.keepAliveTimeout }, (request, response) => {
    const badHost = hostFault(request);
    const alive = request.url?.split('?')[0] === '/healthz';
    const body = badHost ? JSON.stringify({ error: kernelOutcomes[badHost].message }) : alive ? ALIVE : UNAVAILABLE;
    response.writeHead(badHost ? 400 : alive ? 200 : 503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      connection: 'close',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  });
  server.on('clientError', options.clientErrorHandler);
  // an answer its client stops reading is given up after the stall limit, as the service does
  server.setTimeout(options.connectionTimeout);
  server.on('timeout', (socket) => answerStalledConnection(socket));
  server.on('connect', (_request, socket) => answerConnect(socket));
  const { host, port } = parseListenAddress(address);
  await new Promise<void>((resolve, reject) => {
    const failed = (err: Error) => reject(listenFailure(err, address));
    server.once('error', failed);
    server.listen(port, host, () => {
      server.off('error', failed);
      resolve();
    });
  });
  let handedOver = false;
  return {
    // Closing the socket and listening anew left the address unanswered in between: connections
    // refused, and the ones waiting in the backlog, or whose request the stand-in was reading,
    // reset — under load, for ≈ 200 ms of the database's return. Handed over, the socket never
    // stops listening: connections the kernel holds are accepted by the service. What the
    // stand-in has taken keeps its limits (its timer goes on) and is cut off past the request limit.
    handOver: () => {
      const listening = server as unknown as { _handle: object | null };
      const handle = listening._handle;
      if (!handle) throw new Error('the stand-in is not listening');
      listening._handle = null;
      handedOver = true;
      server.closeIdleConnections();
      setTimeout(() => server.closeAllConnections(), limits.requestTimeoutMs).unref();
      return handle;
    },
    close: () =>
      new Promise<void>((resolve) => {
        if (handedOver) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
