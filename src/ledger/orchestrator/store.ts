import type { Database } from '../../kernel/db/database.js';
import type { Decision, DecisionKind, FinalStatus, Outcome, TxRecord, TxStatus } from './machine.js';
import { NOTES } from './machine.js';
import { Batcher } from '../batcher.js';

export interface WalletRow {
  id: string;
  owner_id: number;
  shard: number;
  state: 'creating' | 'active';
  [key: string]: unknown;
}

/** A row of ledger.transactions, as the database holds it (see toRecord for the typed view). */
interface TxRow {
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

/** What a caller knows of a transaction it is about to log. */
export type NewTx = Pick<TxRow, 'tx_id' | 'kind' | 'from_wallet' | 'to_wallet' | 'from_shard' | 'to_shard' | 'amount'>;

/** An Idempotency-Key as the store keeps it: whose it is, the key, and what the request was. */
export interface IdempotencyClaim {
  /** The caller: `user:<id>`, or `admin:<hash of the operator token>`. */
  scope: string;
  key: string;
  /** Hash of the normalised request (operation and its parameters). */
  fingerprint: string;
}

/** What an earlier request with the same key left behind. */
export interface EarlierRequest {
  fingerprint: string;
  txId: string | null;
}

/** A logged transaction, or the earlier request that already holds its Idempotency-Key. */
export type Logged = { fresh: true; record: TxRecord } | { fresh: false; earlier: EarlierRequest };

/** This instance's identity and lease length: rows it logs or takes over are leased to it. */
export interface LeaseTerms {
  owner: string;
  ms: number;
}

export interface LogEntry {
  tx_id: string;
  kind: 'transfer' | 'deposit';
  from_wallet: string | null;
  to_wallet: string;
  amount: number;
  status: TxStatus;
  note: string;
  initiated_at: Date;
  [key: string]: unknown;
}

const TX_COLUMNS = 'tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, decision, outcome_status, outcome_note, lease_owner';
const OPEN = `status in ('PENDING', 'PROCESSING')`;

export interface OwnedWallet {
  id: string;
  state: 'creating' | 'active';
  shard: number;
  created_at: Date;
  [key: string]: unknown;
}

type Row = TxRow & { idem_scope: string | null; idem_key: string | null; fingerprint: string | null };

/** The only module that knows the ledger schema's tables. */
export class LedgerStore {
  // The coordinator's three writes per transaction are batched across transactions.
  private readonly claims = new Batcher<string, boolean>((ids) => this.claimMany(ids));
  private readonly decisions = new Batcher<{ txId: string; decision: Decision }, Decision | null>((items) => this.decideMany(items));
  private readonly finishes = new Batcher<{ txId: string; outcome: Outcome }, undefined>((items) => this.finishMany(items));
  // So do the PENDING inserts of concurrent requests (one commit, one WAL flush for many).
  private readonly inserts = new Batcher<Row, { error: unknown } | { inserted: boolean }>((rows) => this.insertMany(rows));
  /**
   * Registry rows of active wallets. Owner and shard never change once registered and a
   * wallet never leaves 'active', so these cannot go stale (rows still 'creating' are not
   * kept); this saves a round trip on every transfer.
   */
  private readonly activeWallets = new Map<string, WalletRow>();

  constructor(
    private readonly db: Database,
    readonly lease: LeaseTerms,
  ) {}

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

  /**
   * Registers the wallet for its owner: 'created' now, 'mine' when this owner already has it
   * (a repeat), 'taken' when someone else does.
   */
  async registerWallet(id: string, ownerId: number, shard: number): Promise<'created' | 'mine' | 'taken' | 'unknown_user'> {
    try {
      const rows = await this.db.query<{ owner_id: string | number; created: boolean }>(
        `with created as (
           insert into ledger.wallets (id, owner_id, shard) values ($1, $2, $3) on conflict (id) do nothing returning owner_id
         )
         select owner_id, true as created from created
         union all
         select owner_id, false from ledger.wallets where id = $1 and not exists (select 1 from created)`,
        [id, ownerId, shard],
      );
      const row = rows[0];
      // the conflicting row was inserted by a statement that committed after this one's snapshot
      if (!row) return (await this.wallet(id))?.owner_id === ownerId ? 'mine' : 'taken';
      if (row.created) return 'created';
      return Number(row.owner_id) === ownerId ? 'mine' : 'taken';
    } catch (err) {
      if ((err as { code?: string }).code === '23503') return 'unknown_user';
      throw err;
    }
  }

  /** The owner's wallets, oldest first. */
  async walletsOf(ownerId: number): Promise<OwnedWallet[]> {
    return this.db.query<OwnedWallet>('select id, state, shard, created_at from ledger.wallets where owner_id = $1 order by created_at, id', [ownerId]);
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
   * written final (INVALID) at once; otherwise PENDING, durably, before the caller answers 202,
   * leased to this instance. With an Idempotency-Key the key is claimed in the same statement:
   * either both the key and the transaction are written, or the key was already held and
   * nothing is (then the earlier request is returned). Concurrent inserts share one statement
   * and one commit (the promise settles after it).
   */
  async insertTransaction(record: NewTx, invalid?: Outcome, idempotency?: IdempotencyClaim): Promise<Logged> {
    const row: Row = {
      ...record,
      status: invalid ? invalid.status : 'PENDING',
      decision: invalid ? 'abort' : null,
      outcome_status: invalid ? invalid.status : null,
      outcome_note: invalid ? invalid.note : null,
      lease_owner: this.lease.owner,
      idem_scope: idempotency?.scope ?? null,
      idem_key: idempotency?.key ?? null,
      fingerprint: idempotency?.fingerprint ?? null,
    };
    const result = await this.inserts.run(row);
    if ('error' in result) throw result.error;
    if (result.inserted) {
      return { fresh: true, record: toRecord(row) };
    }
    if (!idempotency) throw new Error(`transaction ${record.tx_id} was not logged`);
    const earlier = await this.idempotencyKey(idempotency.scope, idempotency.key);
    if (!earlier) throw new Error('idempotency key neither claimed nor found');
    return { fresh: false, earlier };
  }

  /** Per row: whether it was logged, or the error that row alone met (a bad row must not fail the others). */
  private async insertMany(rows: Row[]): Promise<Array<{ error: unknown } | { inserted: boolean }>> {
    try {
      const logged = await this.insertRows(rows);
      return rows.map((r) => ({ inserted: logged.has(r.tx_id) }));
    } catch (error) {
      if (rows.length === 1) return [{ error }];
      return Promise.all(
        rows.map((r) =>
          this.insertRows([r]).then(
            (logged) => ({ inserted: logged.has(r.tx_id) }),
            (e: unknown) => ({ error: e }),
          ),
        ),
      );
    }
  }

  /** The tx ids logged now; a row whose Idempotency-Key was already held is left out. */
  private async insertRows(rows: Row[]): Promise<Set<string>> {
    const inserted = await this.db.query<{ tx_id: string }>(
      `with v as (
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::int[], $6::int[], $7::bigint[], $8::text[], $9::text[], $10::text[], $11::text[],
                              $14::text[], $15::text[], $16::text[])
           with ordinality as v(tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, decision, outcome_status, outcome_note,
                                idem_scope, idem_key, fingerprint, n)
       ), claimed as (
         -- keys in one order, so two batches claiming the same keys cannot deadlock
         insert into ledger.idempotency_keys (scope, key, fingerprint, tx_id)
         select idem_scope, idem_key, fingerprint, tx_id from v where idem_key is not null order by idem_scope, idem_key
         on conflict (scope, key) do nothing
         returning tx_id
       )
       insert into ledger.transactions (tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, note, decision, outcome_status, outcome_note,
                                        decided_at, finished_at, lease_owner)
         select v.tx_id, v.kind, v.from_wallet, v.to_wallet, v.from_shard, v.to_shard, v.amount, v.status, coalesce(v.outcome_note, $12),
                v.decision, v.outcome_status, v.outcome_note, case when v.decision is not null then now() end, case when v.decision is not null then now() end,
                $13
         from v where v.idem_key is null or v.tx_id in (select tx_id from claimed)
         order by v.n
       returning tx_id`,
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
        this.lease.owner,
        rows.map((r) => r.idem_scope),
        rows.map((r) => r.idem_key),
        rows.map((r) => r.fingerprint),
      ],
    );
    return new Set(inserted.map((r) => r.tx_id));
  }

  async idempotencyKey(scope: string, key: string): Promise<EarlierRequest | undefined> {
    const rows = await this.db.query<{ fingerprint: string; tx_id: string | null }>(
      'select fingerprint, tx_id from ledger.idempotency_keys where scope = $1 and key = $2',
      [scope, key],
    );
    const row = rows[0];
    return row ? { fingerprint: row.fingerprint, txId: row.tx_id } : undefined;
  }

  /** Claims a key for a request that logs no transaction (wallet creation); undefined when claimed now. */
  async claimIdempotencyKey(claim: IdempotencyClaim): Promise<EarlierRequest | undefined> {
    const rows = await this.db.query(
      'insert into ledger.idempotency_keys (scope, key, fingerprint) values ($1, $2, $3) on conflict (scope, key) do nothing returning 1',
      [claim.scope, claim.key, claim.fingerprint],
    );
    if (rows.length > 0) return undefined;
    const earlier = await this.idempotencyKey(claim.scope, claim.key);
    if (!earlier) throw new Error('idempotency key neither claimed nor found');
    return earlier;
  }

  /** Deletes keys older than the retention, a bounded chunk at a time; returns how many went. */
  async sweepIdempotencyKeys(retentionMs: number, chunk = 10_000): Promise<number> {
    const rows = await this.db.query(
      `delete from ledger.idempotency_keys where (scope, key) in (
         select scope, key from ledger.idempotency_keys where created_at < now() - $1 * interval '1 millisecond' limit $2
       ) returning 1`,
      [retentionMs, chunk],
    );
    return rows.length;
  }

  async transaction(txId: string): Promise<TxRecord | undefined> {
    const row = (await this.db.query<TxRow>(`select ${TX_COLUMNS} from ledger.transactions where tx_id = $1`, [txId]))[0];
    return row && toRecord(row);
  }

  /**
   * PENDING → PROCESSING: the point after which phase 1 may have reached a shard. Only for the
   * lease holder: an instance whose lease was taken over must not start phase 1 again.
   */
  claim(txId: string): Promise<boolean> {
    return this.claims.run(txId);
  }

  private async claimMany(ids: string[]): Promise<boolean[]> {
    const rows = await this.db.query<{ tx_id: string }>(
      `update ledger.transactions set status = 'PROCESSING', note = $2
       where tx_id = any($1::text[]) and status = 'PENDING' and lease_owner = $3 returning tx_id`,
      [ids, NOTES.processing, this.lease.owner],
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
    const decided = (await this.transaction(txId))?.decision;
    if (!decided) throw new Error(`transaction ${txId} has no decision after compare-and-set`);
    return decided;
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

  /** This instance's unfinished transactions (oldest first): what it must drive, also after its own hand-overs. */
  async ownUnfinished(limit: number, afterSeq = 0): Promise<Array<{ seq: number; record: TxRecord }>> {
    const rows = await this.db.query<TxRow & { seq: number }>(
      `select seq, ${TX_COLUMNS} from ledger.transactions where ${OPEN} and lease_owner = $3 and seq > $2 order by seq limit $1`,
      [limit, afterSeq, this.lease.owner],
    );
    return rows.map((r) => ({ seq: Number(r.seq), record: toRecord(r) }));
  }

  /**
   * Leases to this instance the unfinished transactions (oldest first) whose owner's lease has
   * run out — it stopped renewing: it is gone — or that have no owner. A transaction another
   * live instance holds is never returned. Rows locked by a write in progress are skipped (the
   * next sweep sees them).
   */
  async takeOverExpired(limit: number, afterSeq = 0): Promise<Array<{ seq: number; record: TxRecord }>> {
    const rows = await this.db.query<TxRow & { seq: number }>(
      `with expired as (
         select t.tx_id from ledger.transactions t left join ledger.instances i on i.id = t.lease_owner
         where t.${OPEN} and t.seq > $2 and (t.lease_owner is null or (t.lease_owner <> $3 and (i.id is null or i.alive_until < now())))
         order by t.seq limit $1
         for update of t skip locked
       )
       update ledger.transactions t set lease_owner = $3 from expired e where t.tx_id = e.tx_id
       returning t.seq, ${TX_COLUMNS.split(', ')
         .map((c) => `t.${c}`)
         .join(', ')}`,
      [limit, afterSeq, this.lease.owner],
    );
    return rows.map((r) => ({ seq: Number(r.seq), record: toRecord(r) })).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Heartbeat: this instance's lease — on every transaction it owns — runs `lease.ms` from now.
   * One row, however many transactions it drives.
   */
  async renewLease(): Promise<void> {
    await this.db.query(
      `insert into ledger.instances (id, alive_until) values ($1, now() + $2 * interval '1 millisecond')
       on conflict (id) do update set alive_until = excluded.alive_until`,
      [this.lease.owner, this.lease.ms],
    );
  }

  /** On a clean stop: this instance's transactions become free to take at once; returns how many it held. */
  async releaseLease(): Promise<number> {
    await this.db.query('update ledger.instances set alive_until = now() where id = $1', [this.lease.owner]);
    const rows = await this.db.query(`select count(*)::int as n from ledger.transactions where lease_owner = $1 and ${OPEN}`, [this.lease.owner]);
    return Number(rows[0]?.n ?? 0);
  }

  /** Forgets instances whose lease ran out long ago (nothing refers to them once their transactions are final). */
  async forgetInstances(olderThanMs: number): Promise<number> {
    const rows = await this.db.query(
      `delete from ledger.instances i where i.alive_until < now() - $1 * interval '1 millisecond'
         and not exists (select 1 from ledger.transactions t where t.lease_owner = i.id and t.${OPEN})
       returning 1`,
      [olderThanMs],
    );
    return rows.length;
  }

  /**
   * The wallet's log in (initiated_at, seq) order — initiated_at is what the entry shows, so
   * order and time never disagree; seq breaks ties in acceptance order. Transfers it sent
   * (any status) and deposits into it; transfers it received only once SUCCESSFUL (a refused
   * or failed transfer never touched the receiver's money).
   */
  async walletLog(walletId: string): Promise<LogEntry[]> {
    return this.db.query<LogEntry>(
      `select tx_id, kind, from_wallet, to_wallet, amount, status, note, initiated_at from (
         select seq, tx_id, kind, from_wallet, to_wallet, amount, status, note, initiated_at from ledger.transactions where from_wallet = $1
         union all
         select seq, tx_id, kind, from_wallet, to_wallet, amount, status, note, initiated_at from ledger.transactions
         where to_wallet = $1 and (kind = 'deposit' or status = 'SUCCESSFUL')
       ) t order by initiated_at, seq`,
      [walletId],
    );
  }
}
