import { servedOperations } from './openapi.js';
import assert from 'node:assert/strict';
import type { Sql } from 'postgres';

/** What the ledger tests expect of any run, derived from the transaction log alone. */

/** A row of `ledger.transactions` as the invariant checks read it (amount as exact text). */
export interface LoggedTransaction {
  tx_id: string;
  kind: string;
  from_wallet: string | null;
  to_wallet: string;
  amount: string;
  status: string;
}

export const LOGGED_TRANSACTIONS_SQL = 'select tx_id, kind, from_wallet, to_wallet, amount::text, status from ledger.transactions';

/** Every wallet's balance if each SUCCESSFUL transaction was applied exactly once, and the deposits' total. */
export function balancesFromLog(log: readonly LoggedTransaction[], wallets: readonly string[]): { expected: Map<string, bigint>; deposits: bigint } {
  const expected = new Map<string, bigint>(wallets.map((w) => [w, 0n]));
  let deposits = 0n;
  for (const t of log) {
    if (t.status !== 'SUCCESSFUL') continue;
    const amount = BigInt(t.amount);
    if (t.kind === 'deposit') deposits += amount;
    else expected.set(t.from_wallet as string, (expected.get(t.from_wallet as string) ?? 0n) - amount);
    expected.set(t.to_wallet, (expected.get(t.to_wallet) ?? 0n) + amount);
  }
  return { expected, deposits };
}

/**
 * The shards agree with the log: no balance negative, nothing left reserved, held or counted
 * as incoming, each wallet's balance is what its SUCCESSFUL transactions make it, a shard
 * applied exactly the transactions the log calls SUCCESSFUL, and the balances add up to the
 * deposits. Returns the deposits' total.
 */
export async function assertShardsMatchLog(shards: readonly Sql[], log: readonly LoggedTransaction[], wallets: readonly string[]): Promise<bigint> {
  const { expected, deposits } = balancesFromLog(log, wallets);
  const status = new Map(log.map((t) => [t.tx_id, t.status]));
  let total = 0n;
  for (const s of shards) {
    const rows = await s.unsafe<Array<{ id: string; balance: string; reserved: string; incoming: string }>>(
      'select id, balance::text, reserved::text, incoming::text from shard.wallets',
    );
    for (const w of rows) {
      assert.ok(BigInt(w.balance) >= 0n, `wallet ${w.id} negative`);
      assert.equal(w.reserved, '0', `wallet ${w.id} still has money reserved`);
      assert.equal(w.incoming, '0', `wallet ${w.id} still counts a pending credit`);
      assert.equal(BigInt(w.balance), expected.get(w.id), `wallet ${w.id}: balance differs from its SUCCESSFUL transactions`);
      total += BigInt(w.balance);
    }
    assert.equal((await s.unsafe(`select tx_id from shard.transactions where state = 'reserved'`)).length, 0, 'holds left open on a shard');
    const applied = await s.unsafe<Array<{ tx_id: string }>>(`select tx_id from shard.transactions where state = 'confirmed'`);
    for (const a of applied) assert.equal(status.get(a.tx_id), 'SUCCESSFUL', `shard applied ${a.tx_id}, log says ${status.get(a.tx_id)}`);
  }
  assert.equal(total, deposits, 'money is neither created nor lost: the balances differ from the deposits');
  return deposits;
}

/** Every operation a shard serves, as its OpenAPI document lists them. */
export const SHARD_OPERATIONS = servedOperations([
  'GET /healthz',
  'GET /internal/tx/{txId}',
  'GET /internal/wallets/{id}',
  'GET /metrics',
  'GET /readyz',
  'POST /internal/batch',
  'POST /internal/tx/{txId}/cancel',
  'POST /internal/tx/{txId}/confirm',
  'POST /internal/tx/{txId}/deposit',
  'POST /internal/tx/{txId}/reserve',
  'POST /internal/tx/{txId}/transfer',
  'POST /internal/wallets',
]);
