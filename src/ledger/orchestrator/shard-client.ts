import { Pool } from 'undici';
import { DatabaseUnavailable } from '../../kernel/db/unavailable.js';
import { kernelOutcomes } from '../../kernel/http/outcome.js';
import { parseServiceUrl } from '../../kernel/address.js';
import type { Logger } from '../../kernel/logger.js';
import {
  MAX_BATCH_OPS,
  shardPaths,
  type BatchOp,
  type BatchResult,
  type CancelResult,
  type ConfirmResult,
  type CreateWalletResult,
  type HoldKind,
  type OperationResult,
  type WalletResult,
} from '../protocol.js';
import { realClock, type TimerClock } from '../timer-clock.js';
import type { Answer } from './machine.js';

/** A shard's answer while its database is away (the kernel's 503 body). */
const SHARD_DATABASE_UNAVAILABLE = JSON.stringify({ error: kernelOutcomes.database_unavailable.message });

export interface ShardClientOptions {
  /** Keep-alive connections per shard. */
  connections?: number;
  /** Most operations per batch request (the shard accepts up to MAX_BATCH_OPS). */
  maxBatch?: number;
  /** Batch requests in flight per shard; calls made meanwhile wait for the next batch. */
  maxInFlight?: number;
  /** What the deadlines are measured on (tests move a manual clock). */
  clock?: TimerClock;
}

/** A state-changing call waiting for its batch. */
interface Queued {
  op: BatchOp;
  /** clock.now() by which the call must be answered (timeoutMs after it was made). */
  deadline: number;
  resolve: (answer: Answer<BatchResult>) => void;
}

interface Lane {
  pool: Pool;
  queue: Queued[];
  inFlight: number;
  scheduled: boolean;
  /** Its last request failed (no answer, or not 200): logged once, when it starts and when it ends. */
  failing: boolean;
}

/**
 * How long a call a member's request waits on (a wallet's balance, its creation at
 * `create_wallet`) waits for its shard: a silent shard then costs a 503 within the 2 s the
 * database-outage rule allows any request, not the confirmation limit a transfer may wait. An
 * unanswered creation is finished by the recovery sweep, whose calls keep the full limit.
 */
const MEMBER_WAIT_MS = 1500;

/** Who waits on a single call: a member's request (bounded by MEMBER_WAIT_MS) or background work. */
export type Patience = 'member' | 'background';

/** A shard's answers that mean it does not take this orchestrator's SHARD_TOKEN. */
const TOKEN_REFUSED: ReadonlySet<number> = new Set([401, 403]);

/**
 * How a shard's refusal is logged per request: its database away (503, which the shard logs
 * itself, once) and a refused token (told once by `health`) would be a line for every call.
 */
function perRequestLevel(status: number): 'debug' | 'warn' {
  return status === 503 || TOKEN_REFUSED.has(status) ? 'debug' : 'warn';
}

/**
 * HTTP client of the shards: one keep-alive pool per shard, every call bounded by a timeout.
 * Never throws: a timeout or any failure is an answer (`timeout` / `error`) the state machine
 * understands.
 *
 * State-changing calls (reserve, confirm, cancel, transfer, deposit) made to one shard within
 * the same tick, or while its batches are in flight, travel together in one
 * `POST /internal/batch`: the HTTP work on both sides (most of their CPU) is paid once per
 * batch instead of once per call. Each call keeps its own answer and its own time limit: a
 * call is answered `timeout` no later than timeoutMs after it was made (a batch is bounded by
 * its oldest call's deadline, and a timed-out batch answers `timeout` to every call in it).
 */
export class ShardClient {
  private readonly lanes: Lane[];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly clock: TimerClock;

  constructor(
    addresses: readonly string[],
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    options: ShardClientOptions = {},
  ) {
    const connections = options.connections ?? 64;
    this.maxBatch = Math.max(1, Math.min(MAX_BATCH_OPS, options.maxBatch ?? MAX_BATCH_OPS));
    this.maxInFlight = Math.max(1, options.maxInFlight ?? 2);
    this.clock = options.clock ?? realClock;
    this.lanes = addresses.map((a) => ({
      pool: new Pool(parseServiceUrl(a), { connections, keepAliveTimeout: 30_000, pipelining: 1 }),
      queue: [],
      inFlight: 0,
      scheduled: false,
      failing: false,
    }));
  }

  get count(): number {
    return this.lanes.length;
  }

  private lane(shard: number): Lane {
    const lane = this.lanes[shard];
    if (!lane) throw new RangeError(`no shard ${shard}`);
    return lane;
  }

  /**
   * One call outside the batches. `relayOutage`: a shard whose database is away (503 "database
   * unavailable") makes the call throw DatabaseUnavailable, so a read the orchestrator serves
   * from it answers the client the same 503.
   */
  private async call<T>(shard: number, method: 'GET' | 'POST', path: string, patience: Patience, body?: object, relayOutage = false): Promise<Answer<T>> {
    const { pool } = this.lane(shard);
    const deadline = this.deadline(patience === 'member' ? Math.min(this.timeoutMs, MEMBER_WAIT_MS) : this.timeoutMs);
    try {
      const res = await pool.request({
        method,
        path,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal: deadline.signal,
        // the deadline above bounds the whole request, on the client's clock
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        this.logger[perRequestLevel(res.statusCode)]({ shard, path, status: res.statusCode }, 'shard refused a request');
        this.health(shard, `status ${res.statusCode}`, res.statusCode);
        if (relayOutage && res.statusCode === 503 && text === SHARD_DATABASE_UNAVAILABLE) throw new DatabaseUnavailable();
        return { result: 'error' };
      }
      this.health(shard);
      return JSON.parse(text) as T;
    } catch (err) {
      if (err instanceof DatabaseUnavailable) throw err;
      const timedOut = deadline.signal.aborted;
      this.logger.debug({ shard, path, err: (err as Error).message }, timedOut ? 'shard timed out' : 'shard unreachable');
      this.health(shard, timedOut ? 'timed out' : (err as Error).message);
      return { result: timedOut ? 'timeout' : 'error' };
    } finally {
      deadline.cancel();
    }
  }

  /**
   * Tells the operator when a shard stops serving and when it serves again, once each: the
   * transactions it holds up wait (or end FAILED by CONFIRMATION_LIMIT) meanwhile. `failure`:
   * why the request just made got no answer; none: it was answered. A shard that refuses the
   * token is a setting to correct, not an outage to wait out: said once, as an error, naming it.
   */
  private health(shard: number, failure?: string, status?: number): void {
    const lane = this.lane(shard);
    if (failure !== undefined && !lane.failing) {
      if (status !== undefined && TOKEN_REFUSED.has(status))
        this.logger.error(
          { shard, status },
          'shard refuses this orchestrator: SHARD_TOKEN must be the same here and on every shard; its transactions wait for it',
        );
      else this.logger.warn({ shard, reason: failure }, 'shard not serving: its transactions wait for it');
    } else if (failure === undefined && lane.failing) this.logger.info({ shard }, 'shard serving again');
    lane.failing = failure !== undefined;
  }

  /** An abort signal that fires `ms` from now on the client's clock. */
  private deadline(ms: number): { signal: AbortSignal; cancel(): void } {
    const controller = new AbortController();
    const timer = this.clock.setTimer(() => controller.abort(new Error('shard deadline passed')), ms);
    return { signal: controller.signal, cancel: () => timer.cancel() };
  }

  /** Queues a state-changing call for the shard's next batch. */
  private batched<T extends BatchResult>(shard: number, op: BatchOp): Promise<Answer<T>> {
    const lane = this.lane(shard);
    return new Promise<Answer<T>>((resolve) => {
      lane.queue.push({ op, deadline: this.clock.now() + this.timeoutMs, resolve: resolve as (a: Answer<BatchResult>) => void });
      if (!lane.scheduled) {
        lane.scheduled = true;
        // the rest of this tick's calls (e.g. the other half of a Promise.all) join the batch
        setImmediate(() => {
          lane.scheduled = false;
          this.drain(shard, lane);
        });
      }
    });
  }

  private drain(shard: number, lane: Lane): void {
    while (lane.inFlight < this.maxInFlight && lane.queue.length > 0) {
      const now = this.clock.now();
      const calls = lane.queue.splice(0, this.maxBatch).filter((c) => {
        if (c.deadline > now) return true;
        c.resolve({ result: 'timeout' }); // its time ran out while waiting for a free slot: never sent
        return false;
      });
      if (calls.length === 0) continue;
      lane.inFlight++;
      void this.send(shard, lane, calls).finally(() => {
        lane.inFlight--;
        this.drain(shard, lane);
      });
    }
  }

  /** One batch request; answers every call in it, never throws. */
  private async send(shard: number, lane: Lane, calls: Queued[]): Promise<void> {
    const path = shardPaths.batch;
    // The request may run until the last call's deadline (the queue is in arrival order); each
    // call is answered `timeout` at its own deadline, so a call that waited in the queue does not
    // cut short the fresh calls batched with it. A late answer for an expired call is dropped:
    // a promise settles once.
    const now = this.clock.now();
    const last = calls[calls.length - 1];
    const timeoutMs = Math.max(1, Math.ceil((last?.deadline ?? now) - now));
    const timers = calls.map((c) => this.clock.setTimer(() => c.resolve({ result: 'timeout' }), Math.max(0, c.deadline - now)));
    const deadline = this.deadline(timeoutMs);
    let answers: Array<Answer<BatchResult>>;
    try {
      const res = await lane.pool.request({
        method: 'POST',
        path,
        headers: { authorization: `Bearer ${this.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ ops: calls.map((c) => c.op) }),
        signal: deadline.signal,
        headersTimeout: 0,
        bodyTimeout: 0,
      });
      const text = await res.body.text();
      const results = res.statusCode === 200 ? (JSON.parse(text) as { results?: unknown }).results : undefined;
      if (!Array.isArray(results) || results.length !== calls.length) {
        this.logger[perRequestLevel(res.statusCode)]({ shard, path, status: res.statusCode, ops: calls.length }, 'shard refused a batch');
        answers = calls.map(() => ({ result: 'error' }));
        this.health(shard, `status ${res.statusCode}`, res.statusCode);
      } else {
        answers = results as Array<Answer<BatchResult>>;
        this.health(shard);
      }
    } catch (err) {
      const timedOut = deadline.signal.aborted;
      this.logger.debug({ shard, path, ops: calls.length, err: (err as Error).message }, timedOut ? 'shard timed out' : 'shard unreachable');
      const result = timedOut ? 'timeout' : neverSent(err) ? 'unreachable' : 'error';
      answers = calls.map(() => ({ result }));
      this.health(shard, timedOut ? 'timed out' : (err as Error).message);
    } finally {
      deadline.cancel();
    }
    for (const t of timers) t.cancel();
    calls.forEach((c, i) => {
      c.resolve(answers[i] as Answer<BatchResult>);
    });
  }

  createWallet(shard: number, walletId: string, patience: Patience = 'background'): Promise<Answer<CreateWalletResult>> {
    return this.call(shard, 'POST', shardPaths.wallets, patience, { wallet_id: walletId });
  }

  /** A wallet's balance, which only members ask for. */
  wallet(shard: number, walletId: string): Promise<Answer<WalletResult>> {
    return this.call(shard, 'GET', shardPaths.wallet(walletId), 'member', undefined, true);
  }

  reserve(shard: number, txId: string, walletId: string, kind: HoldKind, amount: number): Promise<Answer<OperationResult>> {
    return this.batched(shard, { op: 'reserve', tx_id: txId, wallet_id: walletId, kind, amount });
  }

  confirm(shard: number, txId: string): Promise<Answer<ConfirmResult>> {
    return this.batched(shard, { op: 'confirm', tx_id: txId });
  }

  cancel(shard: number, txId: string): Promise<Answer<CancelResult>> {
    return this.batched(shard, { op: 'cancel', tx_id: txId });
  }

  transfer(shard: number, txId: string, from: string, to: string, amount: number): Promise<Answer<OperationResult>> {
    return this.batched(shard, { op: 'transfer', tx_id: txId, from_id: from, to_id: to, amount });
  }

  deposit(shard: number, txId: string, walletId: string, amount: number): Promise<Answer<OperationResult>> {
    return this.batched(shard, { op: 'deposit', tx_id: txId, wallet_id: walletId, amount });
  }

  async close(): Promise<void> {
    await Promise.all(this.lanes.map((l) => l.pool.destroy().catch(() => undefined)));
  }
}

/** Socket errors of a connection that was never made: the request cannot have reached the shard. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH']);

/** Whether a failed request certainly never left (its connection was refused), not merely went unanswered. */
export function neverSent(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; typeof e === 'object' && e !== null && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_CONNECTED.has(code)) return true;
  }
  return false;
}
