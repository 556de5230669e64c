import { setMaxListeners } from 'node:events';
import { isDatabaseUnavailable, retryWhileUnavailable } from '../../kernel/db/unavailable.js';
import { sleep } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import type { CancelResult, ConfirmResult } from '../protocol.js';
import {
  NOTHING_THERE,
  SUCCESS,
  UNREACHABLE,
  abortOutcome,
  acknowledged,
  afterCancel,
  backoffMs,
  decide,
  localOutcome,
  next,
  type Answer,
  type CrossShardTx,
  type Decision,
  type DecisionKind,
  type DepositTx,
  type LocalTransferTx,
  type Outcome,
  type TxRecord,
} from './machine.js';
import type { Patience, ShardClient } from './shard-client.js';
import type { OrchestratorStore } from './store.js';

export interface WalletToCreate {
  id: string;
  shard: number;
}

interface Job {
  record: TxRecord;
  create: WalletToCreate[];
  /** Just accepted by this instance: no earlier run can have sent any of its shard calls. */
  fresh: boolean;
}

/** What happened to a transaction this coordinator drove: for metrics, logs and tests that wait on it. */
export type CoordinatorEvent =
  | { type: 'decided'; txId: string; decision: Decision }
  | { type: 'finished'; txId: string; outcome: Outcome }
  /** Handed back to the recovery sweep (a shard away, a fault, another owner). */
  | { type: 'left'; txId: string; reason: string };

export interface CoordinatorOptions {
  concurrency: number;
  /** Beyond this backlog new transactions wait in the database for the recovery sweep. */
  maxQueue?: number;
  /** Phase-2 attempts before the slot is given back and the recovery sweep takes over. */
  phase2Attempts?: number;
  /** How long a transaction may wait for its wallets' creation on their shards before it is FAILED (CONFIRMATION_LIMIT). */
  confirmationLimitMs?: number;
}

/**
 * Drives transactions through the shards, at most `concurrency` at a time. Holds no state
 * that matters: everything needed to resume is in the log (status, decision), so after a
 * crash the recovery sweep resubmits what was unfinished and this picks up where it stood.
 * No database transaction is ever open across a shard call.
 */
export class Coordinator {
  private readonly queue: Job[] = [];
  private readonly known = new Set<string>();
  private active = 0;
  private stopping = false;
  private readonly stopSignal = new AbortController();
  private drained: (() => void) | null = null;
  private readonly maxQueue: number;
  private readonly phase2Attempts: number;
  private readonly confirmationLimitMs: number;
  private readonly listeners = new Set<(event: CoordinatorEvent) => void>();

  constructor(
    private readonly store: OrchestratorStore,
    private readonly shards: ShardClient,
    private readonly logger: Logger,
    private readonly options: CoordinatorOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 20_000;
    this.phase2Attempts = options.phase2Attempts ?? 4;
    this.confirmationLimitMs = options.confirmationLimitMs ?? 5_000;
    // every transaction waiting out a retry pause listens for the stop: as many as run at once
    setMaxListeners(0, this.stopSignal.signal);
  }

  /** Calls `listener` with every event until the returned function is called. */
  observe(listener: (event: CoordinatorEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(event: CoordinatorEvent): void {
    for (const listener of this.listeners) listener(event);
  }

  /** Queued or running here now. */
  has(txId: string): boolean {
    return this.known.has(txId);
  }

  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  /**
   * Takes a transaction to drive; false when it is already here, the backlog is full or we are
   * stopping. `fresh`: it was just accepted here (the accept path), not found by a sweep.
   */
  submit(record: TxRecord, create: WalletToCreate[] = [], fresh = false): boolean {
    if (this.stopping || this.known.has(record.tx_id) || this.queue.length >= this.maxQueue) return false;
    this.known.add(record.tx_id);
    this.queue.push({ record, create, fresh });
    this.pump();
    return true;
  }

  private pump(): void {
    while (!this.stopping && this.active < this.options.concurrency) {
      const job = this.queue.shift();
      if (!job) return;
      this.active++;
      void this.run(job).finally(() => {
        this.active--;
        this.known.delete(job.record.tx_id);
        if (this.active === 0 && this.drained) this.drained();
        this.pump();
      });
    }
  }

  /** Lets running transactions reach a safe point (their shard calls are bounded), drops the backlog. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.stopSignal.abort();
    for (const job of this.queue.splice(0)) this.known.delete(job.record.tx_id);
    if (this.active > 0) await new Promise<void>((resolve) => (this.drained = resolve));
  }

  private async run(job: Job): Promise<void> {
    const { record } = job;
    try {
      if (!(await this.createWallets(job.create))) return await this.uncreated(record.tx_id);
      await this.drive(record, job.fresh);
    } catch (err) {
      // a database fault: the log still says where the transaction stands; the sweep resumes it
      // (an outage is logged once by the database layer, not for every transaction it stops)
      if (!isDatabaseUnavailable(err)) this.logger.error({ err, tx_id: record.tx_id }, 'transaction step failed; left for recovery');
      this.left(record.tx_id, isDatabaseUnavailable(err) ? 'database unavailable' : 'database fault');
    }
  }

  /** Carries out the steps `next` names until the transaction is final or has to wait. */
  private async drive(start: TxRecord, fresh: boolean): Promise<void> {
    let record = start;
    // shards that phase 1 of this run could not even connect to: they hold nothing of it
    let unsent: ReadonlySet<number> = new Set();
    for (;;) {
      const step = next(record, this.store.lease.owner);
      switch (step.step) {
        case 'done':
          return;
        case 'leave':
          return this.left(record.tx_id, step.rule);
        case 'one_step':
          return this.oneStep(step.tx, fresh);
        case 'phase1': {
          const cross = step.tx;
          if (!(await this.store.claim(cross.tx_id))) {
            // not PENDING any more, or no longer ours: look again at where it stands
            const now = await this.store.transaction(cross.tx_id);
            if (!now) return this.left(cross.tx_id, 'not in the log');
            if (now.status === 'PENDING' && now.lease_owner === this.store.lease.owner) return this.left(cross.tx_id, 'claim refused');
            record = now;
            break;
          }
          const [debit, credit] = await Promise.all([
            this.answered(() => this.shards.reserve(cross.from_shard, cross.tx_id, cross.from_wallet, 'debit-hold', cross.amount)),
            this.answered(() => this.shards.reserve(cross.to_shard, cross.tx_id, cross.to_wallet, 'pending-credit', cross.amount)),
          ]);
          const refused = new Set<number>();
          if (debit.result === 'unreachable') refused.add(cross.from_shard);
          if (credit.result === 'unreachable') refused.add(cross.to_shard);
          unsent = refused;
          record = { ...cross, status: 'PROCESSING', decision: await this.decideOnce(cross.tx_id, decide(debit, credit)) };
          break;
        }
        case 'abort':
          record = { ...step.tx, decision: await this.decideOnce(step.tx.tx_id, step.decision) };
          break;
        case 'confirm':
        case 'cancel':
          return this.phase2(step.tx, step.decision, unsent);
      }
    }
  }

  /**
   * Records the decision (compare-and-set) and returns the one that stands, which may be another
   * run's. While the ledger database is away the write is tried again until it is back (or we
   * stop): handed to the sweep instead, a transfer both shards have reserved would be found
   * PROCESSING without a decision and aborted — FAILED for an outage of our own database, not of
   * a shard. Holding the decision unwritten meanwhile is safe: a crash still means no decision
   * (abort), and another instance that took the transaction over decides first and wins the
   * compare-and-set.
   */
  private async decideOnce(txId: string, decision: Decision): Promise<Decision> {
    // at most a second apart, so the decision is written within the 5 s SPEC allows after the return
    const stands = await retryWhileUnavailable(
      () => this.store.recordDecision(txId, decision),
      (attempt) => Math.min(1_000, backoffMs(attempt)),
      this.stopSignal.signal,
    );
    this.emit({ type: 'decided', txId, decision: stands });
    return stands;
  }

  /** Writes the final status (see OrchestratorStore.finish); false when `onlyIfHeld` held it back. */
  private async finish(txId: string, outcome: Outcome, onlyIfHeld = false): Promise<boolean> {
    const written = await this.store.finish(txId, outcome, onlyIfHeld);
    if (onlyIfHeld && !written) return false;
    this.emit({ type: 'finished', txId, outcome });
    return true;
  }

  private left(txId: string, reason: string): void {
    this.emit({ type: 'left', txId, reason });
  }

  /**
   * A wallet of the transaction is not acknowledged by its shard yet, so no shard call of the
   * transaction was ever sent: each run creates the wallets first. Once the confirmation limit
   * has passed since it was accepted it is FAILED like any transaction a shard could not
   * confirm in time (a shard down for good would otherwise keep it PENDING); until then the
   * sweep tries again.
   */
  private async uncreated(txId: string): Promise<void> {
    // written only while this instance still holds its lease, like any outcome true only if nobody else drove it
    if ((await this.store.acceptedAtLeast(txId, this.confirmationLimitMs)) && (await this.finish(txId, UNREACHABLE, true))) return;
    this.left(txId, 'a wallet is not created on its shard yet');
  }

  /** Wallet creations not yet acknowledged by their shard are finished before money moves. */
  private async createWallets(wallets: WalletToCreate[]): Promise<boolean> {
    for (const w of wallets) if (!(await this.finishCreation(w))) return false;
    return true;
  }

  /** Creates a registered wallet on its shard (idempotent) and marks it active; false while the shard is away. */
  async finishCreation(w: WalletToCreate, patience: Patience = 'background'): Promise<boolean> {
    const answer = await this.shards.createWallet(w.shard, w.id, patience);
    if (answer.result !== 'created' && answer.result !== 'exists') return false;
    await this.store.markWalletActive(w.id);
    return true;
  }

  /**
   * Same-shard transfer or deposit: one idempotent shard call decides. Without an answer the
   * transaction is cancelled on the shard, which settles it for good either way. The decision
   * is recorded together with the final status.
   *
   * A shard that refused the connection never saw the call. If this run is the transaction's
   * first (`fresh`), nobody sent it before either, so it is FAILED at once — the shard may stay
   * down for good, and a cancel would wait for it. The final status is written only while this
   * instance still holds the lease: had another instance taken it over meanwhile, its own call
   * may have reached the shard.
   */
  private async oneStep(record: DepositTx | LocalTransferTx, fresh: boolean): Promise<void> {
    const answer = await this.answered(() =>
      record.type === 'deposit'
        ? this.shards.deposit(record.shard, record.tx_id, record.to_wallet, record.amount)
        : this.shards.transfer(record.shard, record.tx_id, record.from_wallet, record.to_wallet, record.amount),
    );
    if (answer.result === 'unreachable' && fresh) {
      if (!(await this.finish(record.tx_id, UNREACHABLE, true))) this.left(record.tx_id, 'lease taken over before the shard answered');
      return;
    }
    let outcome = localOutcome(answer, record.to_wallet);
    if (!outcome) {
      const cancelled = await this.untilAcknowledged<CancelResult>('settle', record.tx_id, () => this.shards.cancel(record.shard, record.tx_id));
      if (!cancelled) return this.left(record.tx_id, 'shard did not acknowledge the cancel');
      outcome = afterCancel(cancelled, record.to_wallet);
    }
    await this.finish(record.tx_id, outcome);
  }

  /**
   * Phase 2 of a cross-shard transfer: follow the recorded decision on both shards, then write
   * the final status. An abort skips the shards in `unsent`: phase 1, which happens once per
   * transaction, could not connect to them, so they hold nothing to cancel and never will (a
   * recorded abort means no reserve is ever sent again). A shard down for good then does not
   * keep the transaction PROCESSING.
   */
  private async phase2(record: CrossShardTx, decision: Decision, unsent: ReadonlySet<number> = new Set()): Promise<void> {
    const sides = [record.from_shard, record.to_shard];
    if (decision.decision === 'commit') {
      const acks = await Promise.all(
        sides.map((s) => this.untilAcknowledged<ConfirmResult>('commit', record.tx_id, () => this.shards.confirm(s, record.tx_id))),
      );
      if (acks.some((a) => a === null)) return this.left(record.tx_id, 'a shard did not acknowledge the confirm');
      await this.finish(record.tx_id, SUCCESS);
      return;
    }
    const acks = await Promise.all(
      sides.map((s) =>
        unsent.has(s) ? Promise.resolve(NOTHING_THERE) : this.untilAcknowledged<CancelResult>('abort', record.tx_id, () => this.shards.cancel(s, record.tx_id)),
      ),
    );
    if (acks.some((a) => a === null)) return this.left(record.tx_id, 'a shard did not acknowledge the cancel');
    await this.finish(record.tx_id, abortOutcome(decision, acks[0] ?? null, acks[1] ?? null));
  }

  /**
   * A phase-1 or one-step call (idempotent per transaction), sent again while the shard answers
   * with an error — its database away (503), a connection dropped mid-request — until
   * CONFIRMATION_LIMIT has passed since the first try; then its last answer stands and the
   * transaction is settled as one the shard could not confirm in time. An outage of the
   * shard's database is waited out like the orchestrator's own, not taken as a refusal. A
   * timeout took the whole limit already; a refused connection says the shard is gone — unless
   * an earlier try reached it (it may have applied the call before its database went away), so
   * after an error a refused connection counts as one more error, and is tried again too.
   */
  private async answered<T extends { result: string }>(call: () => Promise<Answer<T>>): Promise<Answer<T>> {
    const until = performance.now() + this.confirmationLimitMs;
    let reached = false;
    for (let attempt = 0; ; attempt++) {
      let answer = await call();
      if (answer.result === 'error') reached = true;
      else if (answer.result === 'unreachable' && reached) answer = { result: 'error' };
      const left = until - performance.now();
      if (answer.result !== 'error' || this.stopping || left <= 0) return answer;
      // the last pause is cut to what is left, so the last try comes at the limit, not before it
      await sleep(Math.min(backoffMs(attempt), left), this.stopSignal.signal);
    }
  }

  /** Retries a phase-2 call a few times; null hands the transaction over to the recovery sweep. */
  private async untilAcknowledged<T extends ConfirmResult | CancelResult>(
    decision: DecisionKind | 'settle',
    txId: string,
    call: () => Promise<Answer<T>>,
  ): Promise<T | null> {
    for (let attempt = 0; attempt < this.phase2Attempts && !this.stopping; attempt++) {
      const answer = await call();
      const verdict = acknowledged(decision, answer);
      if (verdict === 'ack') return answer as T;
      if (verdict === 'anomaly') {
        // Cannot happen while the protocol holds (a decision is recorded once and followed). No
        // final status would be true, so none is written: the transaction stays PROCESSING for an
        // operator, and every recovery sweep logs it again.
        this.logger.error({ tx_id: txId, decision, answer }, 'shard answer contradicts the recorded decision; left PROCESSING for an operator');
        return null;
      }
      await sleep(backoffMs(attempt), this.stopSignal.signal);
    }
    return null;
  }
}
