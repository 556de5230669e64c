import { SQLSTATE, sqlState, type Database } from '../../kernel/db/database.js';
import { IsolatingBatcher } from '../batcher.js';
import type {
  CancelReason,
  CancelResult,
  ConfirmResult,
  CreateWalletResult,
  HoldKind,
  OperationResult,
  ShardTxState,
  TxStateResult,
  WalletResult,
} from '../protocol.js';

type Kind = HoldKind | 'transfer' | 'deposit' | 'tombstone';

interface TxRow {
  kind: Kind;
  wallet_id: string | null;
  counterparty: string | null;
  amount: number | null;
  state: ShardTxState;
  reason: CancelReason | null;
  missing_wallet: string | null;
  [key: string]: unknown;
}

/** One operation for `<schema>.apply` (functions.ts). */
interface Op {
  op: 'reserve' | 'transfer' | 'deposit' | 'confirm' | 'cancel';
  txId: string;
  walletId: string | null;
  kind: HoldKind | null;
  counterparty: string | null;
  amount: number | null;
}

/** What `<schema>.apply_op` answers (functions.ts); `r_*` describe the transaction of a repeat. */
interface FnRow {
  o_result: 'repeat' | 'reserved' | 'confirmed' | 'cancelled' | 'insufficient_funds' | 'unknown_wallet' | 'balance_limit' | 'not_found';
  o_reason?: CancelReason | null;
  o_wallet: string | null;
  r_kind: Kind | null;
  r_wallet: string | null;
  r_counterparty: string | null;
  r_amount: number | null;
  r_state: ShardTxState | null;
  r_reason: CancelReason | null;
  r_missing: string | null;
  [key: string]: unknown;
}

function operation(row: FnRow): OperationResult {
  switch (row.o_result) {
    case 'reserved':
      return { result: 'reserved' };
    case 'confirmed':
      return { result: 'confirmed' };
    case 'insufficient_funds':
      return { result: 'insufficient_funds' };
    case 'unknown_wallet':
      return { result: 'unknown_wallet', wallet_id: row.o_wallet ?? '' };
    case 'balance_limit':
      return { result: 'balance_limit' };
    default:
      throw new Error(`unexpected operation result ${row.o_result}`);
  }
}

/** What a repeated request must match to be "the same operation". */
interface Expected {
  kind: Kind;
  walletId: string;
  counterparty?: string;
  amount: number;
}

/**
 * The answer to a repeated request: what the first one decided, or `conflict` if it differs.
 * Judged on the transaction as the statement saw it right after the repeat (functions.ts: apply_op),
 * so a later operation of the same batch does not change the answer.
 */
function repeat(row: FnRow, expected: Expected): OperationResult {
  if (row.r_kind === null) throw new Error('a repeat without its transaction');
  if (row.r_kind === 'tombstone') return { result: 'cancelled' };
  const same =
    row.r_kind === expected.kind &&
    row.r_wallet === expected.walletId &&
    Number(row.r_amount) === expected.amount &&
    (expected.counterparty === undefined || row.r_counterparty === expected.counterparty);
  if (!same) return { result: 'conflict' };
  if (row.r_state === 'reserved') return { result: 'reserved' };
  if (row.r_state === 'confirmed') return { result: 'confirmed' };
  if (row.r_reason === 'insufficient_funds') return { result: 'insufficient_funds' };
  if (row.r_reason === 'unknown_wallet') return { result: 'unknown_wallet', wallet_id: row.r_missing ?? expected.walletId };
  if (row.r_reason === 'balance_limit') return { result: 'balance_limit' };
  return { result: 'cancelled' };
}

/** Deadlocks and serialisation failures are retried: the transaction had no effect. */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      const state = sqlState(err);
      if (attempt >= 5 || (state !== SQLSTATE.deadlockDetected && state !== SQLSTATE.serializationFailure)) throw err;
    }
  }
}

/**
 * All SQL of a shard. Every operation is one local database transaction keyed by the
 * transaction id; its first execution decides the outcome and records it, so repeats (the
 * orchestrator retries after timeouts and crashes) answer the same and change nothing.
 */
export class ShardStore {
  private readonly s: string;
  /**
   * Concurrent operations run as one statement (one round trip, one commit for all), one
   * batch at a time per shard, so batches never wait on each other's row locks. Each
   * operation keeps its own semantics (the functions are the single-operation logic). If the
   * batch fails, each operation runs alone, so only a faulty one reports the fault.
   */
  private readonly ops = new IsolatingBatcher<Op, FnRow>((ops) => this.applyRows(ops));
  private readonly w: string;
  private readonly t: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
    this.s = schema;
    this.w = `${schema}.wallets`;
    this.t = `${schema}.transactions`;
  }

  async createWallet(id: string): Promise<CreateWalletResult> {
    const rows = await this.db.query(`insert into ${this.w} (id) values ($1) on conflict (id) do nothing returning 1`, [id]);
    return rows.length > 0 ? { result: 'created' } : { result: 'exists' };
  }

  async wallet(id: string): Promise<WalletResult> {
    const rows = await this.db.query<{ balance: number; reserved: number }>(`select balance, reserved from ${this.w} where id = $1`, [id]);
    const row = rows[0];
    return row ? { result: 'ok', wallet_id: id, balance: row.balance, reserved: row.reserved } : { result: 'unknown_wallet' };
  }

  async txState(txId: string): Promise<TxStateResult> {
    const rows = await this.db.query<TxRow>(`select kind, wallet_id, counterparty, amount, state, reason, missing_wallet from ${this.t} where tx_id = $1`, [
      txId,
    ]);
    const row = rows[0];
    if (!row) return { result: 'none' };
    return { result: 'ok', kind: row.kind, state: row.state, wallet_id: row.wallet_id, amount: row.amount, reason: row.reason };
  }

  /**
   * Phase 1. A debit hold raises `reserved` only while `balance − reserved` covers it (one
   * conditional update under the wallet's row lock, so concurrent holds cannot overdraw); a
   * pending credit raises `incoming` likewise only while balance + incoming + amount stays
   * within MAX_BALANCE_HUNDREDTHS (else `balance_limit`). A refused reserve is recorded as
   * cancelled, so a repeat is refused the same way. One call of `<schema>.reserve` (see the
   * migrations): one round trip, one implicit transaction.
   */
  async reserve(txId: string, walletId: string, kind: HoldKind, amount: number): Promise<OperationResult> {
    const row = await this.apply({ op: 'reserve', txId, walletId, kind, counterparty: null, amount });
    return row.o_result === 'repeat' ? repeat(row, { kind, walletId, amount }) : operation(row);
  }

  /**
   * Phase 2, commit: applies a reserved hold or credit once. One statement (hence atomic and
   * one round trip): the state flip and the balance change happen together or not at all.
   */
  async confirm(txId: string): Promise<ConfirmResult> {
    const row = await this.apply({ op: 'confirm', txId, walletId: null, kind: null, counterparty: null, amount: null });
    return { result: row.o_result as ConfirmResult['result'] };
  }

  /**
   * Phase 2, abort (also the recovery's tool). Releases a hold; when nothing is known of the
   * transaction yet, leaves a tombstone so the reserve, if it ever arrives, is refused.
   */
  async cancel(txId: string): Promise<CancelResult> {
    const row = await this.apply({ op: 'cancel', txId, walletId: null, kind: null, counterparty: null, amount: null });
    if (row.o_result === 'confirmed') return { result: 'confirmed' };
    return { result: 'cancelled', reason: row.o_reason ?? 'cancelled', ...(row.o_wallet ? { wallet_id: row.o_wallet } : {}) };
  }

  /**
   * Both wallets on this shard: debit and credit in one local transaction (one call of
   * `<schema>.transfer`). Rows are locked in id order so opposite transfers between the same
   * pair cannot deadlock.
   */
  async transfer(txId: string, from: string, to: string, amount: number): Promise<OperationResult> {
    const row = await this.apply({ op: 'transfer', txId, walletId: from, kind: null, counterparty: to, amount });
    return row.o_result === 'repeat' ? repeat(row, { kind: 'transfer', walletId: from, counterparty: to, amount }) : operation(row);
  }

  /** Money entering the ledger: a credit applied once per transaction id. */
  async deposit(txId: string, walletId: string, amount: number): Promise<OperationResult> {
    const row = await this.apply({ op: 'deposit', txId, walletId, kind: null, counterparty: null, amount });
    return row.o_result === 'repeat' ? repeat(row, { kind: 'deposit', walletId, amount }) : operation(row);
  }

  /** Runs one operation, batched with the concurrent ones. */
  private apply(op: Op): Promise<FnRow> {
    return this.ops.run(op);
  }

  private async applyRows(ops: Op[]): Promise<FnRow[]> {
    // deadlocks and serialisation failures (against callers outside the batcher) rolled the statement back whole: run it again
    const rows = await retrying(() =>
      this.db.query<FnRow>(
        `select o.*
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[]) with ordinality as a(op, tx, wallet, kind, counterparty, amount, n)
         cross join lateral ${this.s}.apply_op(a.op, a.tx, a.wallet, a.kind, a.counterparty, a.amount) o
         order by a.n`,
        [
          ops.map((o) => o.op),
          ops.map((o) => o.txId),
          ops.map((o) => o.walletId),
          ops.map((o) => o.kind),
          ops.map((o) => o.counterparty),
          ops.map((o) => o.amount),
        ],
      ),
    );
    if (rows.length !== ops.length) throw new Error(`batch of ${ops.length} operations returned ${rows.length} rows`);
    return rows;
  }
}
