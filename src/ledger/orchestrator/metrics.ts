import { Counter, Histogram, type Registry } from 'prom-client';
import type { Database } from '../../kernel/db/database.js';
import type { Logger } from '../../kernel/logger.js';
import type { CancelResult, ConfirmResult, HoldKind, OperationResult } from '../protocol.js';
import type { Answer, Decision, Outcome } from './machine.js';
import { ShardClient, type ShardClientOptions } from './shard-client.js';
import { OrchestratorStore, type IdempotencyClaim, type LeaseTerms, type Logged } from './store.js';

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** Acceptance times kept for the end-to-end histogram; beyond this (a huge backlog) new ones are not timed. */
const MAX_TRACKED = 100_000;

export interface OrchestratorMetrics {
  finished: Counter<'status'>;
  phase: Histogram<'phase'>;
  endToEnd: Histogram<'status'>;
}

export function createOrchestratorMetrics(registry: Registry): OrchestratorMetrics {
  return {
    finished: new Counter({
      name: 'ledger_transactions_finished_total',
      help: 'Transactions (transfers and deposits) given their final status, by status',
      labelNames: ['status'] as const,
      registers: [registry],
    }),
    phase: new Histogram({
      name: 'ledger_phase_duration_seconds',
      help: 'Latency of each step of a transaction: reserve (phase 1, per shard call), decision (log write), confirm/cancel (phase 2, per shard call), local (one-step transfer or deposit on a shard), finish (log write)',
      labelNames: ['phase'] as const,
      buckets: BUCKETS,
      registers: [registry],
    }),
    endToEnd: new Histogram({
      name: 'ledger_transaction_duration_seconds',
      help: 'From acceptance (the 202) to the final status, by final status; transactions resumed after a restart are not timed',
      labelNames: ['status'] as const,
      buckets: BUCKETS,
      registers: [registry],
    }),
  };
}

async function timed<T>(histogram: Histogram<'phase'>, phase: string, run: () => Promise<T>): Promise<T> {
  const end = histogram.startTimer({ phase });
  try {
    return await run();
  } finally {
    end();
  }
}

/** The ledger store, counting final statuses and timing the log writes of the protocol. */
export class MeteredOrchestratorStore extends OrchestratorStore {
  private readonly acceptedAt = new Map<string, number>();

  constructor(
    db: Database,
    lease: LeaseTerms,
    private readonly metrics: OrchestratorMetrics,
  ) {
    super(db, lease);
  }

  override async insertTransaction(
    record: Parameters<OrchestratorStore['insertTransaction']>[0],
    invalid?: Outcome,
    idempotency?: IdempotencyClaim,
  ): Promise<Logged> {
    const logged = await super.insertTransaction(record, invalid, idempotency);
    if (!logged.fresh) return logged;
    const row = logged.record;
    if (invalid) {
      this.metrics.finished.inc({ status: invalid.status });
      this.metrics.endToEnd.observe({ status: invalid.status }, 0);
    } else if (this.acceptedAt.size < MAX_TRACKED) {
      this.acceptedAt.set(row.tx_id, performance.now());
    }
    return logged;
  }

  override recordDecision(txId: string, decision: Decision): Promise<Decision> {
    return timed(this.metrics.phase, 'decision', () => super.recordDecision(txId, decision));
  }

  override async finish(txId: string, outcome: Outcome, onlyIfHeld = false): Promise<boolean> {
    const written = await timed(this.metrics.phase, 'finish', () => super.finish(txId, outcome, onlyIfHeld));
    // a finish held back by the lease is another instance's to count
    if (onlyIfHeld && !written) return false;
    this.metrics.finished.inc({ status: outcome.status });
    const at = this.acceptedAt.get(txId);
    if (at !== undefined) {
      this.acceptedAt.delete(txId);
      this.metrics.endToEnd.observe({ status: outcome.status }, (performance.now() - at) / 1000);
    }
    return written;
  }
}

/** The shard client, timing phase-1 and phase-2 calls. */
export class MeteredShardClient extends ShardClient {
  constructor(
    addresses: readonly string[],
    token: string,
    timeoutMs: number,
    logger: Logger,
    options: ShardClientOptions,
    private readonly metrics: OrchestratorMetrics,
  ) {
    super(addresses, token, timeoutMs, logger, options);
  }

  override reserve(shard: number, txId: string, walletId: string, kind: HoldKind, amount: number): Promise<Answer<OperationResult>> {
    return timed(this.metrics.phase, 'reserve', () => super.reserve(shard, txId, walletId, kind, amount));
  }

  override confirm(shard: number, txId: string): Promise<Answer<ConfirmResult>> {
    return timed(this.metrics.phase, 'confirm', () => super.confirm(shard, txId));
  }

  override cancel(shard: number, txId: string): Promise<Answer<CancelResult>> {
    return timed(this.metrics.phase, 'cancel', () => super.cancel(shard, txId));
  }

  override transfer(shard: number, txId: string, from: string, to: string, amount: number): Promise<Answer<OperationResult>> {
    return timed(this.metrics.phase, 'local', () => super.transfer(shard, txId, from, to, amount));
  }

  override deposit(shard: number, txId: string, walletId: string, amount: number): Promise<Answer<OperationResult>> {
    return timed(this.metrics.phase, 'local', () => super.deposit(shard, txId, walletId, amount));
  }
}
