import type { Database } from '../../kernel/db/database.js';
import { IsolatingBatcher } from '../batcher.js';
import type { EarlierRequest, IdempotencyClaim, IdempotencyStore } from './idempotency-store.js';
import type { Outcome, TxRecord } from './machine.js';
import { NOTES } from './machine.js';
import { type TxRow, toRecord } from './tx-row.js';

/** What a caller knows of a transaction it is about to log. */
export type NewTx = Pick<TxRow, 'tx_id' | 'kind' | 'from_wallet' | 'to_wallet' | 'from_shard' | 'to_shard' | 'amount'>;

/** A logged transaction, or the earlier request that already holds its Idempotency-Key. */
export type Logged = { fresh: true; record: TxRecord } | { fresh: false; earlier: EarlierRequest };

type Row = TxRow & { idem_scope: string | null; idem_key: string | null; fingerprint: string | null };

/**
 * Logs new transactions: the PENDING inserts of concurrent requests share one statement and one
 * commit (one WAL flush for many), each caller answered after it; with an Idempotency-Key the
 * key is claimed in that same statement.
 */
export class TxInserter {
  // a bad row must not fail the others: a failed batch is inserted again row by row
  private readonly batch = new IsolatingBatcher<Row, boolean>(async (rows) => {
    const logged = await this.insertRows(rows);
    return rows.map((r) => logged.has(r.tx_id));
  });

  constructor(
    private readonly db: Database,
    private readonly owner: string,
    private readonly keys: IdempotencyStore,
  ) {}

  /**
   * Writes a transaction to the log. A transaction that is already known to be impossible is
   * written final (INVALID) at once; otherwise PENDING, durably, before the caller answers 202,
   * leased to this instance. With an Idempotency-Key the key is claimed in the same statement:
   * either both the key and the transaction are written, or the key was already held and
   * nothing is (then the earlier request is returned). Concurrent inserts share one statement
   * and one commit (the promise settles after it).
   */
  async insert(record: NewTx, invalid?: Outcome, idempotency?: IdempotencyClaim): Promise<Logged> {
    const row: Row = {
      ...record,
      status: invalid ? invalid.status : 'PENDING',
      decision: invalid ? 'abort' : null,
      outcome_status: invalid ? invalid.status : null,
      outcome_note: invalid ? invalid.note : null,
      lease_owner: this.owner,
      idem_scope: idempotency?.scope ?? null,
      idem_key: idempotency?.key ?? null,
      fingerprint: idempotency?.fingerprint ?? null,
    };
    if (await this.batch.run(row)) {
      return { fresh: true, record: toRecord(row) };
    }
    if (!idempotency) throw new Error(`transaction ${record.tx_id} was not logged`);
    const earlier = await this.keys.find(idempotency.scope, idempotency.key);
    if (!earlier) throw new Error('idempotency key neither claimed nor found');
    return { fresh: false, earlier };
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
        this.owner,
        rows.map((r) => r.idem_scope),
        rows.map((r) => r.idem_key),
        rows.map((r) => r.fingerprint),
      ],
    );
    return new Set(inserted.map((r) => r.tx_id));
  }
}
