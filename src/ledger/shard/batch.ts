import { DatabaseUnavailable, isDatabaseUnavailable } from '../../kernel/db/unavailable.js';
import type { BatchOp, BatchResult } from '../protocol.js';
import type { ShardStore } from './store.js';

/** The single-operation use case a batch entry stands for (the same store call as its route). */
function dispatch(store: ShardStore, op: BatchOp): Promise<BatchResult> {
  switch (op.op) {
    case 'reserve':
      return store.reserve(op.tx_id, op.wallet_id, op.kind, op.amount);
    case 'confirm':
      return store.confirm(op.tx_id);
    case 'cancel':
      return store.cancel(op.tx_id);
    case 'transfer':
      return store.transfer(op.tx_id, op.from_id, op.to_id, op.amount);
    case 'deposit':
      return store.deposit(op.tx_id, op.wallet_id, op.amount);
  }
}

/**
 * Runs a validated batch: every operation is started at once, in order, so the store's
 * statement batcher runs them in that order in as few statements (and commits) as it can;
 * each is answered only once it is durable, exactly as its single route would answer. A
 * fault answers `error` for that operation alone (its route would have answered 500). When
 * the database is away for every operation of the batch, the batch itself is refused with
 * DatabaseUnavailable (503), as each of its routes would have been.
 */
export async function runBatch(store: ShardStore, ops: readonly BatchOp[], logger: { error(obj: object, msg: string): void }): Promise<BatchResult[]> {
  let unavailable = 0;
  const results = await Promise.all(
    ops.map((op) =>
      dispatch(store, op).catch((err: unknown): BatchResult => {
        // an outage is logged once by the database layer, not for every operation it stops
        if (isDatabaseUnavailable(err)) unavailable++;
        else logger.error({ err, op: op.op, tx_id: op.tx_id }, 'batched shard operation failed');
        return { result: 'error' };
      }),
    ),
  );
  if (unavailable > 0 && unavailable === ops.length) throw new DatabaseUnavailable();
  return results;
}
