import type { Decision, DecisionKind, FinalStatus, TxRecord, TxStatus } from './machine.js';
import { NOTES } from './machine.js';

/** A row of ledger.transactions, as the database holds it (see toRecord for the typed view). */
export interface TxRow {
  tx_id: string;
  kind: 'transfer' | 'deposit';
  from_wallet: string | null;
  to_wallet: string;
  from_shard: number | null;
  to_shard: number;
  amount: number;
  status: TxStatus;
  decision: DecisionKind | null;
  outcome_status: FinalStatus | null;
  outcome_note: string | null;
  lease_owner: string | null;
  [key: string]: unknown;
}

/** The typed view of a log row: which kind of transaction it is decides which fields it has. */
export function toRecord(row: TxRow): TxRecord {
  const decision: Decision | null = row.decision
    ? { decision: row.decision, status: row.outcome_status ?? 'FAILED', note: row.outcome_note ?? NOTES.limitExceeded }
    : null;
  const common = { tx_id: row.tx_id, amount: row.amount, status: row.status, decision, lease_owner: row.lease_owner };
  if (row.from_wallet === null || row.from_shard === null) return { ...common, type: 'deposit', to_wallet: row.to_wallet, shard: row.to_shard };
  if (row.from_shard === row.to_shard) return { ...common, type: 'local', from_wallet: row.from_wallet, to_wallet: row.to_wallet, shard: row.to_shard };
  return { ...common, type: 'cross', from_wallet: row.from_wallet, to_wallet: row.to_wallet, from_shard: row.from_shard, to_shard: row.to_shard };
}

/** The columns every statement that hands back a TxRow reads. */
export const TX_COLUMNS = 'tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, decision, outcome_status, outcome_note, lease_owner';
/** Unfinished: not yet final. */
export const OPEN = `status in ('PENDING', 'PROCESSING')`;
