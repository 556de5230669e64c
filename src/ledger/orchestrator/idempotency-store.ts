import { type Database, deleteInChunks } from '../../kernel/db/database.js';

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
  /** The outcome name of a request that was refused after it was judged (kept by `claim`), else null. */
  refusal: string | null;
}

/** Idempotency-Key rows (ledger.idempotency_keys); a transfer's key is written with it by OrchestratorStore.insertTransaction. */
export class IdempotencyStore {
  constructor(private readonly db: Database) {}

  async find(scope: string, key: string): Promise<EarlierRequest | undefined> {
    const rows = await this.db.query<{ fingerprint: string; tx_id: string | null; refusal: string | null }>(
      'select fingerprint, tx_id, refusal from ledger.idempotency_keys where scope = $1 and key = $2',
      [scope, key],
    );
    const row = rows[0];
    return row ? { fingerprint: row.fingerprint, txId: row.tx_id, refusal: row.refusal } : undefined;
  }

  /**
   * Claims a key for a request that logs no transaction: a wallet creation, or (with
   * `refusal`) a request refused after it was judged. Undefined when claimed now, else what
   * holds the key already.
   */
  async claim(claim: IdempotencyClaim, refusal: string | null = null): Promise<EarlierRequest | undefined> {
    const rows = await this.db.query(
      'insert into ledger.idempotency_keys (scope, key, fingerprint, refusal) values ($1, $2, $3, $4) on conflict (scope, key) do nothing returning 1',
      [claim.scope, claim.key, claim.fingerprint, refusal],
    );
    if (rows.length > 0) return undefined;
    const earlier = await this.find(claim.scope, claim.key);
    if (!earlier) throw new Error('idempotency key neither claimed nor found');
    return earlier;
  }

  /**
   * Deletes keys older than the retention, a bounded chunk per statement, until fewer than a
   * chunk are left or `maxChunks` went; returns how many went. One chunk per pass (once a minute)
   * was slower than a single caller can write keys (a wallet creation repeated with a new key
   * each time, ≈ 700/s here, against 10 000 a minute swept): the table grew for as long as that
   * went on. The cap keeps one pass from holding the recovery loop for ever.
   */
  sweep(retentionMs: number, chunk = 10_000, maxChunks = 100): Promise<number> {
    const deleteChunk = async (): Promise<number> =>
      (
        await this.db.query(
          `delete from ledger.idempotency_keys where (scope, key) in (
             select scope, key from ledger.idempotency_keys where created_at < now() - $1 * interval '1 millisecond' limit $2
           ) returning 1`,
          [retentionMs, chunk],
        )
      ).length;
    return deleteInChunks(deleteChunk, chunk, maxChunks);
  }
}
