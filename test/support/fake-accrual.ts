import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { FixedWindowLimiter } from '../../src/accrual/rate-limit.js';

/**
 * One scripted answer of the fake accrual service: a status with an optional body and headers,
 * `hang` (never answer: the client's timeout must fire), or `reset` (drop the connection).
 * `heldUntil` keeps the answer back until the promise settles, so a test can change the world
 * (stop the database) while the poller waits for it.
 */
export type FakeReply =
  | { status: number; body?: string | object; headers?: Record<string, string>; delayMs?: number; heldUntil?: Promise<unknown> }
  | 'hang'
  | 'reset';

export interface SeenRequest {
  number: string;
  at: number; // Date.now() when the request arrived
}

export const processed = (order: string, accrual?: number): FakeReply => ({
  status: 200,
  body: accrual === undefined ? { order, status: 'PROCESSED' } : { order, status: 'PROCESSED', accrual },
});
export const status = (order: string, s: string): FakeReply => ({ status: 200, body: { order, status: s } });
export const unknown: FakeReply = { status: 204 };
export const tooMany = (retryAfter: string, limit = 60): FakeReply => ({
  status: 429,
  body: `No more than ${limit} requests per minute allowed`,
  headers: { 'retry-after': retryAfter, 'content-type': 'text/plain' },
});

/**
 * A scriptable stand-in for the accrual service on a real loopback socket. Each order number
 * has a queue of replies: they are used in turn and the last one repeats. `intercept` runs
 * first and may answer any request (e.g. a 429 for everyone). Orders without a script get 204.
 */
export class FakeAccrual {
  readonly requests: SeenRequest[] = [];
  intercept: ((number: string) => FakeReply | undefined) | undefined;
  private readonly scripts = new Map<string, FakeReply[]>();
  private readonly inFlight = new Map<string, number>();
  /** Highest number of requests for one order that were ever open at the same time. */
  maxConcurrentPerOrder = 0;
  /** When set, the accrual service's own fixed one-minute window runs before any script. */
  private limiter: FixedWindowLimiter | undefined;
  /** Requests refused by the limiter (429s served). */
  readonly refused: SeenRequest[] = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<FakeAccrual> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const fake = new FakeAccrual(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    server.on('request', (req, res) => fake.handle(req, res));
    return fake;
  }

  /** Limits `GET /api/orders/*` as the real accrual service does: `limit` per fixed minute, 429 with Retry-After past that. */
  limitPerMinute(limit: number, now: () => number = Date.now): void {
    this.limiter = new FixedWindowLimiter(limit, now);
  }

  script(number: string, ...replies: FakeReply[]): void {
    this.scripts.set(number, replies);
  }

  seen(number: string): SeenRequest[] {
    return this.requests.filter((r) => r.number === number);
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const m = /^\/api\/orders\/([^/?]+)$/.exec(req.url ?? '');
    if (req.method !== 'GET' || !m?.[1]) {
      res.writeHead(404).end();
      return;
    }
    const number = decodeURIComponent(m[1]);
    this.requests.push({ number, at: Date.now() });
    const open = (this.inFlight.get(number) ?? 0) + 1;
    this.inFlight.set(number, open);
    this.maxConcurrentPerOrder = Math.max(this.maxConcurrentPerOrder, open);
    const finish = (): void => {
      this.inFlight.set(number, (this.inFlight.get(number) ?? 1) - 1);
    };
    res.on('close', finish);
    const decision = this.limiter?.take();
    if (decision && !decision.allowed && this.limiter) {
      this.refused.push({ number, at: Date.now() });
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': String(decision.retryAfterSeconds) }).end(this.limiter.message());
      return;
    }
    let reply = this.intercept?.(number);
    if (reply === undefined) {
      const queue = this.scripts.get(number);
      reply = queue && queue.length > 1 ? queue.shift() : queue?.[0];
    }
    reply ??= unknown;
    if (reply === 'hang') return; // the socket stays open until the client gives up
    if (reply === 'reset') {
      req.socket.destroy();
      return;
    }
    const r = reply;
    const send = (): void => {
      const body = r.body === undefined ? '' : typeof r.body === 'string' ? r.body : JSON.stringify(r.body);
      const type = typeof r.body === 'object' ? { 'content-type': 'application/json' } : {};
      res.writeHead(r.status, { ...type, ...(r.headers ?? {}) });
      res.end(r.status === 204 ? undefined : body);
    };
    if (r.heldUntil) void r.heldUntil.then(send, send);
    else if (r.delayMs) setTimeout(send, r.delayMs);
    else send();
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
