import { Counter, Histogram, type Registry } from 'prom-client';
import type { Database } from '../../kernel/db/database.js';
import type { CancelResult, ConfirmResult, CreateWalletResult, HoldKind, OperationResult } from '../protocol.js';
import { ShardStore } from './store.js';

export interface ShardMetrics {
  operations: Counter<'kind' | 'result'>;
  duration: Histogram<'kind'>;
}

/** Every series the shard reports, declared in one place (the style of every service's metrics.ts). */
export function createShardMetrics(registry: Registry): ShardMetrics {
  return {
    operations: new Counter({
      name: 'shard_operations_total',
      help: 'Operations on this shard by kind (create_wallet, reserve_debit, reserve_credit, confirm, cancel, transfer, deposit) and result code (error: a fault, answered 500)',
      labelNames: ['kind', 'result'] as const,
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'shard_operation_duration_seconds',
      help: 'Time an operation took on this shard, by kind',
      labelNames: ['kind'] as const,
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
  };
}

/** The shard's store, counting every state-changing operation by kind and result. */
export class MeteredShardStore extends ShardStore {
  constructor(
    db: Database,
    schema: string,
    private readonly metrics: ShardMetrics,
  ) {
    super(db, schema);
  }

  private async count<T extends { result: string }>(kind: string, run: () => Promise<T>): Promise<T> {
    const end = this.metrics.duration.startTimer({ kind });
    try {
      const answer = await run();
      this.metrics.operations.inc({ kind, result: answer.result });
      return answer;
    } catch (err) {
      this.metrics.operations.inc({ kind, result: 'error' });
      throw err;
    } finally {
      end();
    }
  }

  override createWallet(id: string): Promise<CreateWalletResult> {
    return this.count('create_wallet', () => super.createWallet(id));
  }

  override reserve(txId: string, walletId: string, kind: HoldKind, amount: number): Promise<OperationResult> {
    return this.count(kind === 'debit-hold' ? 'reserve_debit' : 'reserve_credit', () => super.reserve(txId, walletId, kind, amount));
  }

  override confirm(txId: string): Promise<ConfirmResult> {
    return this.count('confirm', () => super.confirm(txId));
  }

  override cancel(txId: string): Promise<CancelResult> {
    return this.count('cancel', () => super.cancel(txId));
  }

  override transfer(txId: string, from: string, to: string, amount: number): Promise<OperationResult> {
    return this.count('transfer', () => super.transfer(txId, from, to, amount));
  }

  override deposit(txId: string, walletId: string, amount: number): Promise<OperationResult> {
    return this.count('deposit', () => super.deposit(txId, walletId, amount));
  }
}
