import type { Database } from '../../kernel/db/database.js';
import type { Decision, DecisionKind, FinalStatus, Outcome, TxStatus } from './machine.js';
import { NOTES } from './machine.js';
import { Batcher } from '../batcher.js';

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

/** What a caller knows of a transaction it is about to log. */
export type NewTx = Pick<TxRecord, 'tx_id' | 'kind' | 'from_wallet' | 'to_wallet' | 'from_shard' | 'to_shard' | 'amount'>;

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
  private readonly finishes = new Batcher<{ txId: string; outcome: Outcome }, undefined>((items) => this.finishMany(items));
  // So do the PENDING inserts of concurrent requests (one commit, one WAL flush for many).
  private readonly inserts = new Batcher<TxRecord, { error: unknown } | undefined>((rows) => this.insertMany(rows));
  /**
   * Registry rows of active wallets. Owner and shard never change once registered and a
   * wallet never leaves 'active', so these cannot go stale (rows still 'creating' are not
   * kept); this saves a round trip on every transfer.
   */
  private readonly activeWallets = new Map<string, WalletRow>();

  constructor(private readonly db: Database) {}

  async findUserByLogin(login: string): Promise<{ id: number; password_hash: string } | undefined> {
    const rows = await this.db.query<{ id: number; password_hash: string }>('select id, password_hash from ledger.users where login = $1', [login]);
    return rows[0];
  }

  async createUser(login: string, passwordHash: string): Promise<number | null> {
    const rows = await this.db.query<{ id: number }>(
      'insert into ledger.users (login, password_hash) values ($1, $2) on conflict (login) do nothing returning id',
      [login, passwordHash],
    );
    return rows[0]?.id ?? null;
  }

  /** True when registered now; false when the id is taken (by anyone). */
  async registerWallet(id: string, ownerId: number, shard: number): Promise<boolean | 'unknown_user'> {
    try {
      const rows = await this.db.query('insert into ledger.wallets (id, owner_id, shard) values ($1, $2, $3) on conflict (id) do nothing returning 1', [
        id,
        ownerId,
        shard,
      ]);
      return rows.length > 0;
    } catch (err) {
      if ((err as { code?: string }).code === '23503') return 'unknown_user';
      throw err;
    }
  }

  async wallet(id: string): Promise<WalletRow | undefined> {
    const cached = this.activeWallets.get(id);
    if (cached) return cached;
    const row = (await this.db.query<WalletRow>('select id, owner_id, shard, state from ledger.wallets where id = $1', [id]))[0];
    if (row) this.remember(row);
    return row;
  }

  async walletsByIds(ids: string[]): Promise<WalletRow[]> {
    const cached = ids.map((id) => this.activeWallets.get(id));
    if (cached.every((w) => w !== undefined)) return cached;
    const rows = await this.db.query<WalletRow>('select id, owner_id, shard, state from ledger.wallets where id = any($1::text[])', [ids]);
    for (const row of rows) this.remember(row);
    return rows;
  }

  private remember(row: WalletRow): void {
    if (row.state !== 'active') return;
    if (this.activeWallets.size >= 100_000) this.activeWallets.clear(); // bounded; refilled on demand
    this.activeWallets.set(row.id, row);
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
   * Concurrent inserts share one statement and one commit (the promise settles after it).
   */
  async insertTransaction(record: NewTx, invalid?: Outcome): Promise<TxRecord> {
    const row: TxRecord = {
      ...record,
      status: invalid ? invalid.status : 'PENDING',
      decision: invalid ? 'abort' : null,
      outcome_status: invalid ? invalid.status : null,
      outcome_note: invalid ? invalid.note : null,
    };
    const failure = await this.inserts.run(row);
    if (failure) throw failure.error;
    return row;
  }

  /** Per row: undefined, or the error that row alone met (a bad row must not fail the others). */
  private async insertMany(rows: TxRecord[]): Promise<Array<{ error: unknown } | undefined>> {
    try {
      await this.insertRows(rows);
      return rows.map(() => undefined);
    } catch (error) {
      if (rows.length === 1) return [{ error }];
      return Promise.all(
        rows.map((r) =>
          this.insertRows([r]).then(
            () => undefined,
            (e: unknown) => ({ error: e }),
          ),
        ),
      );
    }
  }

  private async insertRows(rows: TxRecord[]): Promise<void> {
    await this.db.query(
      `insert into ledger.transactions (tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, note, decision, outcome_status, outcome_note, decided_at, finished_at)
         select v.tx_id, v.kind, v.from_wallet, v.to_wallet, v.from_shard, v.to_shard, v.amount, v.status, coalesce(v.outcome_note, $12),
                v.decision, v.outcome_status, v.outcome_note, case when v.decision is not null then now() end, case when v.decision is not null then now() end
         from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[])
           as v(tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, decision, outcome_status, outcome_note)`,
      [
        rows.map((r) => r.tx_id),
        rows.map((r) => r.kind),
        rows.map((r) => r.from_wallet),
        rows.map((r) => r.to_wallet),
        rows.map((r) => r.from_shard),
        rows.map((r) => r.to_shard),
        rows.map((r) => r.amount),
        rows.map((r) => r.status),
        rows.map((r) => r.decision),
        rows.map((r) => r.outcome_status),
        rows.map((r) => r.outcome_note),
        NOTES.pending,
      ],
    );
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
    const rows = await this.db.query<{
      tx_id: string;
      changed: boolean;
      decision: DecisionKind | null;
      outcome_status: FinalStatus | null;
      outcome_note: string | null;
    }>(
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
      [
        items.map((i) => i.txId),
        items.map((i) => i.decision.decision),
        items.map((i) => i.decision.status),
        items.map((i) => i.decision.note),
        NOTES.processing,
      ],
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

  private async finishMany(items: Array<{ txId: string; outcome: Outcome }>): Promise<undefined[]> {
    await this.db.query(
      `update ledger.transactions t
       set status = v.status, note = v.note, finished_at = now(),
           decision = coalesce(t.decision, v.decision), outcome_status = coalesce(t.outcome_status, v.status),
           outcome_note = coalesce(t.outcome_note, v.note), decided_at = coalesce(t.decided_at, now())
       from unnest($1::text[], $2::text[], $3::text[], $4::text[]) as v(tx_id, status, note, decision)
       where t.tx_id = v.tx_id and t.status in ('PENDING', 'PROCESSING')`,
      [
        items.map((i) => i.txId),
        items.map((i) => i.outcome.status),
        items.map((i) => i.outcome.note),
        items.map((i) => (i.outcome.status === 'SUCCESSFUL' ? 'commit' : 'abort')),
      ],
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
