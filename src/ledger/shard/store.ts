import { SQLSTATE, sqlState, type Database, type Queryable } from '../../kernel/db/database.js';
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

/** What a repeated request must match to be "the same operation". */
interface Expected {
  kind: Kind;
  walletId: string;
  counterparty?: string;
  amount: number;
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
  private readonly w: string;
  private readonly t: string;

  constructor(
    private readonly db: Database,
    schema: string,
  ) {
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
    const rows = await this.db.query<TxRow>(`select kind, wallet_id, counterparty, amount, state, reason, missing_wallet from ${this.t} where tx_id = $1`, [txId]);
    const row = rows[0];
    if (!row) return { result: 'none' };
    return { result: 'ok', kind: row.kind, state: row.state, wallet_id: row.wallet_id, amount: row.amount, reason: row.reason };
  }

  /**
   * Phase 1. A debit hold raises `reserved` only while `balance − reserved` covers it (one
   * conditional update under the wallet's row lock, so concurrent holds cannot overdraw); a
   * pending credit only checks that the wallet exists. A refused reserve is recorded as
   * cancelled, so a repeat is refused the same way.
   */
  reserve(txId: string, walletId: string, kind: HoldKind, amount: number): Promise<OperationResult> {
    return retrying(() =>
      this.db.transaction(async (tx) => {
        if (!(await this.insertTx(tx, txId, kind, walletId, null, amount, 'reserved'))) {
          return this.repeat(tx, txId, { kind, walletId, amount });
        }
        const ok =
          kind === 'debit-hold'
            ? await tx.query(`update ${this.w} set reserved = reserved + $2 where id = $1 and balance - reserved >= $2 returning 1`, [walletId, amount])
            : await tx.query(`select 1 from ${this.w} where id = $1`, [walletId]);
        if (ok.length > 0) return { result: 'reserved' };
        const exists = kind === 'debit-hold' && (await tx.query(`select 1 from ${this.w} where id = $1`, [walletId])).length > 0;
        return this.refuse(tx, txId, exists ? 'insufficient_funds' : 'unknown_wallet', walletId);
      }),
    );
  }

  /**
   * Phase 2, commit: applies a reserved hold or credit once. One statement (hence atomic and
   * one round trip): the state flip and the balance change happen together or not at all.
   */
  async confirm(txId: string): Promise<ConfirmResult> {
    const applied = await this.db.query(
      `with t as (
         update ${this.t} set state = 'confirmed', updated_at = now() where tx_id = $1 and state = 'reserved' returning kind, wallet_id, amount)
       update ${this.w} w
       set balance = w.balance + case when t.kind = 'debit-hold' then -t.amount else t.amount end,
           reserved = w.reserved - case when t.kind = 'debit-hold' then t.amount else 0 end
       from t where w.id = t.wallet_id returning 1`,
      [txId],
    );
    if (applied.length > 0) return { result: 'confirmed' };
    const row = (await this.db.query<TxRow>(`select state from ${this.t} where tx_id = $1`, [txId]))[0];
    if (!row) return { result: 'not_found' };
    if (row.state === 'reserved') return this.confirm(txId); // inserted after our snapshot: apply it now
    return row.state === 'cancelled' ? { result: 'cancelled' } : { result: 'confirmed' };
  }

  /**
   * Phase 2, abort (also the recovery's tool). Releases a hold; when nothing is known of the
   * transaction yet, leaves a tombstone so the reserve, if it ever arrives, is refused.
   */
  cancel(txId: string): Promise<CancelResult> {
    return retrying(() =>
      this.db.transaction(async (tx) => {
        if (await this.insertTx(tx, txId, 'tombstone', null, null, null, 'cancelled', 'cancelled')) return { result: 'cancelled', reason: 'cancelled' };
        const row = (await tx.query<TxRow>(`select kind, wallet_id, amount, state, reason, missing_wallet from ${this.t} where tx_id = $1 for update`, [txId]))[0];
        if (!row) throw new Error(`transaction ${txId} conflicted but is not readable`);
        if (row.state === 'confirmed') return { result: 'confirmed' };
        if (row.state === 'cancelled') return { result: 'cancelled', reason: row.reason ?? 'cancelled', ...(row.missing_wallet ? { wallet_id: row.missing_wallet } : {}) };
        if (row.kind === 'debit-hold') await tx.query(`update ${this.w} set reserved = reserved - $2 where id = $1`, [row.wallet_id, row.amount]);
        await tx.query(`update ${this.t} set state = 'cancelled', reason = 'cancelled', updated_at = now() where tx_id = $1`, [txId]);
        return { result: 'cancelled', reason: 'cancelled' };
      }),
    );
  }

  /**
   * Both wallets on this shard: debit and credit in one local transaction. Rows are locked in
   * id order so opposite transfers between the same pair cannot deadlock.
   */
  transfer(txId: string, from: string, to: string, amount: number): Promise<OperationResult> {
    return retrying(() =>
      this.db.transaction(async (tx) => {
        if (!(await this.insertTx(tx, txId, 'transfer', from, to, amount, 'confirmed'))) {
          return this.repeat(tx, txId, { kind: 'transfer', walletId: from, counterparty: to, amount });
        }
        const locked = await tx.query<{ id: string; available: number }>(
          `select id, balance - reserved as available from ${this.w} where id in ($1, $2) order by id for update`,
          [from, to],
        );
        const sender = locked.find((r) => r.id === from);
        if (!sender) return this.refuse(tx, txId, 'unknown_wallet', from);
        if (!locked.some((r) => r.id === to)) return this.refuse(tx, txId, 'unknown_wallet', to);
        if (Number(sender.available) < amount) return this.refuse(tx, txId, 'insufficient_funds', from);
        await tx.query(`update ${this.w} set balance = balance + case when id = $2 then $3::bigint else -$3::bigint end where id in ($1, $2)`, [from, to, amount]);
        return { result: 'confirmed' };
      }),
    );
  }

  /** Money entering the ledger: a credit applied once per transaction id. */
  deposit(txId: string, walletId: string, amount: number): Promise<OperationResult> {
    return retrying(() =>
      this.db.transaction(async (tx) => {
        if (!(await this.insertTx(tx, txId, 'deposit', walletId, null, amount, 'confirmed'))) {
          return this.repeat(tx, txId, { kind: 'deposit', walletId, amount });
        }
        const ok = await tx.query(`update ${this.w} set balance = balance + $2 where id = $1 returning 1`, [walletId, amount]);
        if (ok.length === 0) return this.refuse(tx, txId, 'unknown_wallet', walletId);
        return { result: 'confirmed' };
      }),
    );
  }

  /** Open holds older than `ageMs` (for operators and the orchestrator's recovery). */
  async openHolds(ageMs: number, limit = 1000): Promise<string[]> {
    const rows = await this.db.query<{ tx_id: string }>(
      `select tx_id from ${this.t} where state = 'reserved' and created_at < now() - make_interval(secs => $1::double precision / 1000) order by created_at limit $2`,
      [ageMs, limit],
    );
    return rows.map((r) => r.tx_id);
  }

  private async insertTx(
    tx: Queryable,
    txId: string,
    kind: Kind,
    walletId: string | null,
    counterparty: string | null,
    amount: number | null,
    state: ShardTxState,
    reason: CancelReason | null = null,
  ): Promise<boolean> {
    const rows = await tx.query(
      `insert into ${this.t} (tx_id, kind, wallet_id, counterparty, amount, state, reason) values ($1, $2, $3, $4, $5, $6, $7)
       on conflict (tx_id) do nothing returning 1`,
      [txId, kind, walletId, counterparty, amount, state, reason],
    );
    return rows.length > 0;
  }

  private async refuse(tx: Queryable, txId: string, reason: 'insufficient_funds' | 'unknown_wallet', walletId: string): Promise<OperationResult> {
    await tx.query(`update ${this.t} set state = 'cancelled', reason = $2, missing_wallet = $3, updated_at = now() where tx_id = $1`, [
      txId,
      reason,
      reason === 'unknown_wallet' ? walletId : null,
    ]);
    return reason === 'unknown_wallet' ? { result: 'unknown_wallet', wallet_id: walletId } : { result: 'insufficient_funds' };
  }

  /** The answer to a repeated request: what the first one decided, or `conflict` if it differs. */
  private async repeat(tx: Queryable, txId: string, expected: Expected): Promise<OperationResult> {
    const row = (await tx.query<TxRow>(`select kind, wallet_id, counterparty, amount, state, reason, missing_wallet from ${this.t} where tx_id = $1`, [txId]))[0];
    if (!row) throw new Error(`transaction ${txId} conflicted but is not readable`);
    if (row.kind === 'tombstone') return { result: 'cancelled' };
    const same =
      row.kind === expected.kind &&
      row.wallet_id === expected.walletId &&
      Number(row.amount) === expected.amount &&
      (expected.counterparty === undefined || row.counterparty === expected.counterparty);
    if (!same) return { result: 'conflict' };
    if (row.state === 'reserved') return { result: 'reserved' };
    if (row.state === 'confirmed') return { result: 'confirmed' };
    if (row.reason === 'insufficient_funds') return { result: 'insufficient_funds' };
    if (row.reason === 'unknown_wallet') return { result: 'unknown_wallet', wallet_id: row.missing_wallet ?? expected.walletId };
    return { result: 'cancelled' };
  }
}
