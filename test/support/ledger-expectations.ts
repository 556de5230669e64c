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

/** Every operation a shard serves, as its OpenAPI document lists them. */
export const SHARD_OPERATIONS = [
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
];
