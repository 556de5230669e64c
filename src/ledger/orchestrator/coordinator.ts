import { isDatabaseUnavailable } from '../../kernel/db/unavailable.js';
import { sleep } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import type { CancelResult, ConfirmResult } from '../protocol.js';
import {
  NOTES,
  SUCCESS,
  abortOutcome,
  acknowledged,
  afterCancel,
  backoffMs,
  decide,
  isFinal,
  localOutcome,
  type Answer,
  type Decision,
  type Outcome,
} from './machine.js';
import type { ShardClient } from './shard-client.js';
import type { LedgerStore, TxRecord } from './store.js';

export interface WalletToCreate {
  id: string;
  shard: number;
}

interface Job {
  record: TxRecord;
  create: WalletToCreate[];
}

export interface CoordinatorOptions {
  concurrency: number;
  /** Beyond this backlog new transactions wait in the database for the recovery sweep. */
  maxQueue?: number;
  /** Phase-2 attempts before the slot is given back and the recovery sweep takes over. */
  phase2Attempts?: number;
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

  constructor(
    private readonly store: LedgerStore,
    private readonly shards: ShardClient,
    private readonly logger: Logger,
    private readonly options: CoordinatorOptions,
  ) {
    this.maxQueue = options.maxQueue ?? 20_000;
    this.phase2Attempts = options.phase2Attempts ?? 4;
  }

  /** Queued or running here now. */
  has(txId: string): boolean {
    return this.known.has(txId);
  }

  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.queue.length };
  }

  /** Takes a transaction to drive; false when it is already here, the backlog is full or we are stopping. */
  submit(record: TxRecord, create: WalletToCreate[] = []): boolean {
    if (this.stopping || this.known.has(record.tx_id) || this.queue.length >= this.maxQueue) return false;
    this.known.add(record.tx_id);
    this.queue.push({ record, create });
    this.pump();
    return true;
  }

  private pump(): void {
    while (!this.stopping && this.active < this.options.concurrency && this.queue.length > 0) {
      const job = this.queue.shift() as Job;
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
      if (isFinal(record.status)) return;
      if (!(await this.createWallets(job.create))) return; // a shard is away: the sweep retries
      if (record.decision)
        return await this.phase2(record, {
          decision: record.decision,
          status: record.outcome_status ?? 'FAILED',
          note: record.outcome_note ?? NOTES.limitExceeded,
        });
      if (record.kind === 'deposit' || record.from_shard === record.to_shard) return await this.runLocal(record);
      return await this.runCrossShard(record);
    } catch (err) {
      // a database fault: the log still says where the transaction stands; the sweep resumes it
      // (an outage is logged once by the database layer, not for every transaction it stops)
      if (!isDatabaseUnavailable(err)) this.logger.error({ err, tx_id: record.tx_id }, 'transaction step failed; left for recovery');
    }
  }

  /** Wallet creations not yet acknowledged by their shard are finished before money moves. */
  private async createWallets(wallets: WalletToCreate[]): Promise<boolean> {
    for (const w of wallets) if (!(await this.finishCreation(w))) return false;
    return true;
  }

  /** Creates a registered wallet on its shard (idempotent) and marks it active; false while the shard is away. */
  async finishCreation(w: WalletToCreate): Promise<boolean> {
    const answer = await this.shards.createWallet(w.shard, w.id);
    if (answer.result !== 'created' && answer.result !== 'exists') return false;
    await this.store.markWalletActive(w.id);
    return true;
  }

  /**
   * Same-shard transfer or deposit: one idempotent shard call decides. Without an answer the
   * transaction is cancelled on the shard, which settles it for good either way.
   */
  private async runLocal(record: TxRecord): Promise<void> {
    const shard = record.kind === 'deposit' ? record.to_shard : (record.from_shard as number);
    const answer =
      record.kind === 'deposit'
        ? await this.shards.deposit(shard, record.tx_id, record.to_wallet, record.amount)
        : await this.shards.transfer(shard, record.tx_id, record.from_wallet as string, record.to_wallet, record.amount);
    let outcome = localOutcome(answer, record.to_wallet);
    if (!outcome) {
      const cancelled = await this.untilAcknowledged('abort', record.tx_id, () => this.shards.cancel(shard, record.tx_id));
      if (!cancelled) return;
      outcome = afterCancel(cancelled, record.to_wallet);
    }
    await this.store.finish(record.tx_id, outcome);
  }

  /**
   * Two-phase commit. PENDING → PROCESSING is written before any reserve leaves, so a PENDING
   * transaction found after a crash never reached a shard and can simply be run. A PROCESSING
   * one without a decision may have: it is aborted (SPEC: no decision → cancel).
   */
  private async runCrossShard(record: TxRecord): Promise<void> {
    let decision: Decision;
    if (record.status === 'PENDING' && !(await this.store.claim(record.tx_id))) {
      // not PENDING any more, or no longer ours: look again at where it stands
      const now = await this.store.transaction(record.tx_id);
      if (!now || now.lease_owner !== this.store.lease.owner) return; // another instance drives it
      if (now.status === 'PENDING') return; // cannot claim it now (lease moved and back?): the sweep retries
      return this.run({ record: now, create: [] });
    }
    if (record.status === 'PENDING') {
      const [debit, credit] = await Promise.all([
        this.shards.reserve(record.from_shard as number, record.tx_id, record.from_wallet as string, 'debit-hold', record.amount),
        this.shards.reserve(record.to_shard, record.tx_id, record.to_wallet, 'pending-credit', record.amount),
      ]);
      decision = await this.store.recordDecision(record.tx_id, decide(debit, credit));
    } else {
      decision = await this.store.recordDecision(record.tx_id, { decision: 'abort', status: 'FAILED', note: NOTES.limitExceeded });
    }
    await this.phase2(record, decision);
  }

  private async phase2(record: TxRecord, decision: Decision): Promise<void> {
    if (record.kind === 'deposit' || record.from_shard === record.to_shard || record.from_shard === null) {
      // one-step transactions record their decision together with the final status
      return this.runLocal(record);
    }
    const sides = [record.from_shard, record.to_shard];
    if (decision.decision === 'commit') {
      const acks = await Promise.all(
        sides.map((s) => this.untilAcknowledged<ConfirmResult>('commit', record.tx_id, () => this.shards.confirm(s, record.tx_id))),
      );
      if (acks.some((a) => a === null)) return;
      await this.store.finish(record.tx_id, SUCCESS);
      return;
    }
    const acks = await Promise.all(sides.map((s) => this.untilAcknowledged<CancelResult>('abort', record.tx_id, () => this.shards.cancel(s, record.tx_id))));
    if (acks.some((a) => a === null)) return;
    const outcome: Outcome = abortOutcome(decision, acks[0] ?? null, acks[1] ?? null);
    await this.store.finish(record.tx_id, outcome);
  }

  /** Retries a phase-2 call a few times; null hands the transaction over to the recovery sweep. */
  private async untilAcknowledged<T extends ConfirmResult | CancelResult>(
    decision: 'commit' | 'abort',
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
