import type { Database } from '../../kernel/db/database.js';
import type { Decision, DecisionKind, FinalStatus, Outcome, TxStatus } from './machine.js';
import { NOTES } from './machine.js';
import { Batcher } from './batcher.js';

export interface WalletRow {
  id: string;
  owner_id: number;
  shard: number;
  state: 'creating' | 'active';
  [key: string]: unknown;
}

export interface TxRecord {
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
  [key: string]: unknown;
}

export interface LogEntry {
  tx_id: string;
  from_wallet: string | null;
  amount: number;
  status: TxStatus;
  note: string;
  initiated_at: Date;
  [key: string]: unknown;
}

const TX_COLUMNS = 'tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, decision, outcome_status, outcome_note';

/** The only module that knows the ledger schema's tables. */
export class LedgerStore {
  // The coordinator's three writes per transaction are batched across transactions.
  private readonly claims = new Batcher<string, boolean>((ids) => this.claimMany(ids));
  private readonly decisions = new Batcher<{ txId: string; decision: Decision }, Decision | null>((items) => this.decideMany(items));
  private readonly finishes = new Batcher<{ txId: string; outcome: Outcome }, void>((items) => this.finishMany(items));

  constructor(private readonly db: Database) {}

  async findUserByLogin(login: string): Promise<{ id: number; password_hash: string } | undefined> {
    const rows = await this.db.query<{ id: number; password_hash: string }>('select id, password_hash from ledger.users where login = $1', [login]);
    return rows[0];
  }

  async createUser(login: string, passwordHash: string): Promise<number | null> {
    const rows = await this.db.query<{ id: number }>('insert into ledger.users (login, password_hash) values ($1, $2) on conflict (login) do nothing returning id', [
      login,
      passwordHash,
    ]);
    return rows[0]?.id ?? null;
  }

  /** True when registered now; false when the id is taken (by anyone). */
  async registerWallet(id: string, ownerId: number, shard: number): Promise<boolean | 'unknown_user'> {
    try {
      const rows = await this.db.query('insert into ledger.wallets (id, owner_id, shard) values ($1, $2, $3) on conflict (id) do nothing returning 1', [id, ownerId, shard]);
      return rows.length > 0;
    } catch (err) {
      if ((err as { code?: string }).code === '23503') return 'unknown_user';
      throw err;
    }
  }

  async wallet(id: string): Promise<WalletRow | undefined> {
    return (await this.db.query<WalletRow>('select id, owner_id, shard, state from ledger.wallets where id = $1', [id]))[0];
  }

  async walletsByIds(ids: string[]): Promise<WalletRow[]> {
    return this.db.query<WalletRow>('select id, owner_id, shard, state from ledger.wallets where id = any($1::text[])', [ids]);
  }

  async markWalletActive(id: string): Promise<void> {
    await this.db.query(`update ledger.wallets set state = 'active' where id = $1 and state = 'creating'`, [id]);
  }

  async walletsBeingCreated(limit: number): Promise<WalletRow[]> {
    return this.db.query<WalletRow>(`select id, owner_id, shard, state from ledger.wallets where state = 'creating' order by created_at limit $1`, [limit]);
  }

  /**
   * Writes a transaction to the log. A transaction that is already known to be impossible is
   * written final (INVALID) at once; otherwise PENDING, durably, before the caller answers 202.
   */
  async insertTransaction(record: Omit<TxRecord, 'status' | 'decision' | 'outcome_status' | 'outcome_note'>, invalid?: Outcome): Promise<TxRecord> {
    const rows = await this.db.query<TxRecord>(
      `insert into ledger.transactions (tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, note, decision, outcome_status, outcome_note, decided_at, finished_at)
       values ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $13)
       returning ${TX_COLUMNS}`,
      [
        record.tx_id,
        record.kind,
        record.from_wallet,
        record.to_wallet,
        record.from_shard,
        record.to_shard,
        record.amount,
        invalid ? invalid.status : 'PENDING',
        invalid ? invalid.note : NOTES.pending,
        invalid ? 'abort' : null,
        invalid ? invalid.status : null,
        invalid ? invalid.note : null,
        invalid ? new Date() : null,
      ],
    );
    const row = rows[0];
    if (!row) throw new Error('insert returned no row');
    return row;
  }

  async transaction(txId: string): Promise<TxRecord | undefined> {
    return (await this.db.query<TxRecord>(`select ${TX_COLUMNS} from ledger.transactions where tx_id = $1`, [txId]))[0];
  }

  /** PENDING → PROCESSING: the point after which phase 1 may have reached a shard. */
  claim(txId: string): Promise<boolean> {
    return this.claims.run(txId);
  }

  private async claimMany(ids: string[]): Promise<boolean[]> {
    const rows = await this.db.query<{ tx_id: string }>(
      `update ledger.transactions set status = 'PROCESSING', note = $2 where tx_id = any($1::text[]) and status = 'PENDING' returning tx_id`,
      [ids, NOTES.processing],
    );
    const claimed = new Set(rows.map((r) => r.tx_id));
    return ids.map((id) => claimed.has(id));
  }

  /**
   * Records the commit/abort decision once (compare-and-set) and returns the decision that
   * stands, which may be another run's: phase 2 must follow that one.
   */
  async recordDecision(txId: string, decision: Decision): Promise<Decision> {
    const stands = await this.decisions.run({ txId, decision });
    if (stands) return stands;
    // set by a concurrent run after this statement's snapshot: read it now
    const row = await this.transaction(txId);
    if (!row?.decision) throw new Error(`transaction ${txId} has no decision after compare-and-set`);
    return { decision: row.decision, status: row.outcome_status ?? 'FAILED', note: row.outcome_note ?? NOTES.limitExceeded };
  }

  private async decideMany(items: Array<{ txId: string; decision: Decision }>): Promise<Array<Decision | null>> {
    if (new Set(items.map((i) => i.txId)).size !== items.length) {
      // the same transaction twice in one batch: one statement could not tell which won
      const out: Array<Decision | null> = [];
      for (const item of items) out.push(...(await this.decideMany([item])));
      return out;
    }
    const rows = await this.db.query<{ tx_id: string; changed: boolean; decision: DecisionKind | null; outcome_status: FinalStatus | null; outcome_note: string | null }>(
      `with v as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as v(tx_id, decision, outcome_status, outcome_note)
       ), changed as (
         update ledger.transactions t
         set decision = v.decision, outcome_status = v.outcome_status, outcome_note = v.outcome_note, decided_at = now(), status = 'PROCESSING', note = $5
         from v where t.tx_id = v.tx_id and t.decision is null
         returning t.tx_id
       )
       select v.tx_id, (c.tx_id is not null) as changed, t.decision, t.outcome_status, t.outcome_note
       from v left join changed c on c.tx_id = v.tx_id left join ledger.transactions t on t.tx_id = v.tx_id`,
      [items.map((i) => i.txId), items.map((i) => i.decision.decision), items.map((i) => i.decision.status), items.map((i) => i.decision.note), NOTES.processing],
    );
    const byId = new Map(rows.map((r) => [r.tx_id, r]));
    return items.map((i) => {
      const row = byId.get(i.txId);
      if (row?.changed) return i.decision;
      if (row?.decision && row.outcome_status && row.outcome_note) return { decision: row.decision, status: row.outcome_status, note: row.outcome_note };
      return null;
    });
  }

  /** Final status, once; also records the decision of one-step (same-shard, deposit) transactions. */
  finish(txId: string, outcome: Outcome): Promise<void> {
    return this.finishes.run({ txId, outcome });
  }

  private async finishMany(items: Array<{ txId: string; outcome: Outcome }>): Promise<void[]> {
    await this.db.query(
      `update ledger.transactions t
       set status = v.status, note = v.note, finished_at = now(),
           decision = coalesce(t.decision, v.decision), outcome_status = coalesce(t.outcome_status, v.status),
           outcome_note = coalesce(t.outcome_note, v.note), decided_at = coalesce(t.decided_at, now())
       from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as v(tx_id, status, note, decision)
       where t.tx_id = v.tx_id and t.status in ('PENDING', 'PROCESSING')`,
      [items.map((i) => i.txId), items.map((i) => i.outcome.status), items.map((i) => i.outcome.note), items.map((i) => (i.outcome.status === 'SUCCESSFUL' ? 'commit' : 'abort'))],
    );
    return items.map(() => undefined);
  }

  /** Unfinished transactions (oldest first) not touched for `idleMs`: candidates for recovery. */
  async unfinished(limit: number, afterSeq = 0): Promise<Array<TxRecord & { seq: number }>> {
    return this.db.query<TxRecord & { seq: number }>(
      `select seq, ${TX_COLUMNS} from ledger.transactions
       where status in ('PENDING', 'PROCESSING') and seq > $2
       order by seq limit $1`,
      [limit, afterSeq],
    );
  }

  /** The wallet's log, oldest first: transfers out and in, deposits in. */
  async walletLog(walletId: string): Promise<LogEntry[]> {
    return this.db.query<LogEntry>(
      `select tx_id, from_wallet, amount, status, note, initiated_at from (
         select seq, tx_id, from_wallet, amount, status, note, initiated_at from ledger.transactions where from_wallet = $1
         union all
         select seq, tx_id, from_wallet, amount, status, note, initiated_at from ledger.transactions where to_wallet = $1
       ) t order by seq`,
      [walletId],
    );
  }
}
