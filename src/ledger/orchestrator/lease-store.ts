import type { Database } from '../../kernel/db/database.js';
import type { TxRecord } from './machine.js';
import { OPEN, TX_COLUMNS, type TxRow, toRecord } from './tx-row.js';

/** This instance's identity and lease length: rows it logs or takes over are leased to it. */
export interface LeaseTerms {
  owner: string;
  ms: number;
}

/** Leases: one row per orchestrator instance (ledger.instances) and the lease_owner of each unfinished transaction. */
export class LeaseStore {
  constructor(
    private readonly db: Database,
    readonly terms: LeaseTerms,
  ) {}

  /** This instance's unfinished transactions (oldest first): what it must drive, also after its own hand-overs. */
  async ownUnfinished(limit: number, afterSeq = 0): Promise<Array<{ seq: number; record: TxRecord }>> {
    const rows = await this.db.query<TxRow & { seq: number }>(
      `select seq, ${TX_COLUMNS} from ledger.transactions where ${OPEN} and lease_owner = $3 and seq > $2 order by seq limit $1`,
      [limit, afterSeq, this.terms.owner],
    );
    return rows.map((r) => ({ seq: Number(r.seq), record: toRecord(r) }));
  }

  /**
   * Leases to this instance the unfinished transactions (oldest first) whose owner's lease has
   * run out — it stopped renewing: it is gone — or that have no owner. A transaction another
   * live instance holds is never returned. Rows locked by a write in progress are skipped (the
   * next sweep sees them). `onlyUnowned`: just the ones without an owner, given up by a clean
   * stop — nobody drives those, so they may be taken even while leases that look run out may
   * still be live (see LeaseContinuity).
   */
  async takeOverExpired(limit: number, afterSeq = 0, onlyUnowned = false): Promise<Array<{ seq: number; record: TxRecord }>> {
    const rows = await this.db.query<TxRow & { seq: number }>(
      `with expired as (
         select t.tx_id from ledger.transactions t left join ledger.instances i on i.id = t.lease_owner
         where t.${OPEN} and t.seq > $2
           and (t.lease_owner is null or (not $4 and t.lease_owner <> $3 and (i.id is null or i.alive_until < now())))
         order by t.seq limit $1
         for update of t skip locked
       )
       update ledger.transactions t set lease_owner = $3 from expired e where t.tx_id = e.tx_id
       returning t.seq, ${TX_COLUMNS.split(', ')
         .map((c) => `t.${c}`)
         .join(', ')}`,
      [limit, afterSeq, this.terms.owner, onlyUnowned],
    );
    return rows.map((r) => ({ seq: Number(r.seq), record: toRecord(r) })).sort((a, b) => a.seq - b.seq);
  }

  /**
   * Heartbeat: this instance's lease — on every transaction it owns — runs `lease.ms` from now.
   * One row, however many transactions it drives.
   */
  async renew(): Promise<void> {
    await this.db.query(
      `insert into ledger.instances (id, alive_until) values ($1, now() + $2 * interval '1 millisecond')
       on conflict (id) do update set alive_until = excluded.alive_until`,
      [this.terms.owner, this.terms.ms],
    );
  }

  /**
   * On a clean stop, once this instance drives nothing: its unfinished transactions lose their
   * owner, so any instance takes them at its next sweep — also one just started, which takes no
   * run-out lease over for a while (see LeaseContinuity); returns how many it held.
   */
  async release(): Promise<number> {
    await this.db.query('update ledger.instances set alive_until = now() where id = $1', [this.terms.owner]);
    const rows = await this.db.query(`update ledger.transactions set lease_owner = null where lease_owner = $1 and ${OPEN} returning 1`, [this.terms.owner]);
    return rows.length;
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
}
