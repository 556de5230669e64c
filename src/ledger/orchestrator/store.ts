import { SQLSTATE, sqlState, type Database } from '../../kernel/db/database.js';
import { Batcher } from '../batcher.js';
import { type IdempotencyClaim, IdempotencyStore } from './idempotency-store.js';
import { type LeaseTerms, LeaseStore } from './lease-store.js';
import type { Decision, DecisionKind, FinalStatus, Outcome, TxRecord, TxStatus } from './machine.js';
import { NOTES } from './machine.js';
import { TX_COLUMNS, type TxRow, toRecord } from './tx-row.js';
import { TxInserter } from './tx-inserter.js';

export type { EarlierRequest, IdempotencyClaim } from './idempotency-store.js';
export type { LeaseTerms } from './lease-store.js';
export type { Logged, NewTx } from './tx-inserter.js';
import type { Logged, NewTx } from './tx-inserter.js';

export interface WalletRow {
  id: string;
  owner_id: number;
  shard: number;
  state: 'creating' | 'active';
  [key: string]: unknown;
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

export interface OwnedWallet {
  id: string;
  state: 'creating' | 'active';
  shard: number;
  created_at: Date;
  [key: string]: unknown;
}

/** The only module that knows the ledger schema's tables. */
interface FinishItem {
  txId: string;
  outcome: Outcome;
  onlyIfHeld: boolean;
}

export class OrchestratorStore {
  // The coordinator's three writes per transaction are batched across transactions.
  private readonly claims = new Batcher<string, boolean>((ids) => this.claimMany(ids));
  private readonly decisions = new Batcher<{ txId: string; decision: Decision }, Decision | null>((items) => this.decideMany(items));
  private readonly finishes = new Batcher<FinishItem, boolean>((items) => this.finishMany(items));
  /**
   * Registry rows of active wallets. Owner and shard never change once registered and a
   * wallet never leaves 'active', so these cannot go stale (rows still 'creating' are not
   * kept); this saves a round trip on every transfer.
   */
  private readonly activeWallets = new Map<string, WalletRow>();

  readonly leases: LeaseStore;
  readonly keys: IdempotencyStore;
  private readonly inserter: TxInserter;

  constructor(
    private readonly db: Database,
    readonly lease: LeaseTerms,
  ) {
    this.leases = new LeaseStore(db, lease);
    this.keys = new IdempotencyStore(db);
    this.inserter = new TxInserter(db, lease.owner, this.keys);
  }

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
      if (sqlState(err) === SQLSTATE.foreignKeyViolation) return 'unknown_user';
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

  /** Up to `limit` wallets their shard has not acknowledged yet, by id after `afterId` (a page of them). */
  async walletsBeingCreated(limit: number, afterId = ''): Promise<WalletRow[]> {
    return this.db.query<WalletRow>(`select id, owner_id, shard, state from ledger.wallets where state = 'creating' and id > $2 order by id limit $1`, [
      limit,
      afterId,
    ]);
  }

  /**
   * Writes a transaction to the log (PENDING, or final INVALID when already known impossible),
   * durably, before the caller answers 202, with its Idempotency-Key if any (see TxInserter).
   */
  insertTransaction(record: NewTx, invalid?: Outcome, idempotency?: IdempotencyClaim): Promise<Logged> {
    return this.inserter.insert(record, invalid, idempotency);
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

  /**
   * Final status, once; also records the decision of one-step (same-shard, deposit)
   * transactions. `onlyIfHeld`: written only while this instance holds the transaction's lease,
   * for outcomes that are true only if no other instance has driven it (see
   * Coordinator.oneStep). True when this call wrote it.
   */
  finish(txId: string, outcome: Outcome, onlyIfHeld = false): Promise<boolean> {
    return this.finishes.run({ txId, outcome, onlyIfHeld });
  }

  private async finishMany(items: FinishItem[]): Promise<boolean[]> {
    const written = await this.db.query<{ tx_id: string }>(
      `update ledger.transactions t
       set status = v.status, note = v.note, finished_at = now(),
           decision = coalesce(t.decision, v.decision), outcome_status = coalesce(t.outcome_status, v.status),
           outcome_note = coalesce(t.outcome_note, v.note), decided_at = coalesce(t.decided_at, now())
       from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[]) as v(tx_id, status, note, decision, held_by)
       where t.tx_id = v.tx_id and t.status in ('PENDING', 'PROCESSING') and (v.held_by is null or t.lease_owner = v.held_by)
       returning t.tx_id`,
      [
        items.map((i) => i.txId),
        items.map((i) => i.outcome.status),
        items.map((i) => i.outcome.note),
        items.map((i) => (i.outcome.status === 'SUCCESSFUL' ? 'commit' : 'abort')),
        items.map((i) => (i.onlyIfHeld ? this.lease.owner : null)),
      ],
    );
    const ids = new Set(written.map((r) => r.tx_id));
    return items.map((i) => ids.has(i.txId));
  }

  /** Whether the transaction was accepted at least `ms` ago, by the database's clock (which wrote `initiated_at`). */
  async acceptedAtLeast(txId: string, ms: number): Promise<boolean> {
    const rows = await this.db.query<{ tx_id: string }>(
      `select tx_id from ledger.transactions where tx_id = $1 and initiated_at <= now() - $2 * interval '1 millisecond'`,
      [txId, ms],
    );
    return rows.length > 0;
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
