import type { Queryable } from '../../kernel/db/database.js';
import { StartupError } from '../../kernel/startup.js';
import { shardOf } from './machine.js';

/** Wallets read back at start-up to see that they sit where `id % N` puts them. */
const PLACEMENT_SAMPLE = 100;

/**
 * Every orchestrator on one ledger database must place wallets by the same N (wallet `id % N`),
 * or an instance started with a shorter or longer shard list answers 500 for wallets it cannot
 * address and registers new ones on the wrong shard. The first instance records N in
 * `ledger.settings`; a later one with another N refuses to start while any wallet exists (with
 * none yet, the new N is recorded: the ledger is being set up). A database from before the
 * record existed is checked by its wallets: a sample must sit on `id % N`.
 */
export async function checkShardLayout(db: Queryable, shardCount: number): Promise<void> {
  await db.query(`insert into ledger.settings (key, value) values ('shard_count', $1) on conflict (key) do nothing`, [String(shardCount)]);
  const [recorded] = await db.query<{ value: string }>(`select value from ledger.settings where key = 'shard_count'`);
  const wallets = await db.query<{ id: string; shard: number }>('select id, shard from ledger.wallets order by id limit $1', [PLACEMENT_SAMPLE]);
  if (recorded?.value !== String(shardCount)) {
    if (wallets.length > 0) throw mismatch(shardCount, `this ledger database's wallets are placed on ${recorded?.value ?? 'another number of'} shards`);
    await db.query(`update ledger.settings set value = $1 where key = 'shard_count'`, [String(shardCount)]);
  }
  const misplaced = wallets.find((w) => shardOf(w.id, shardCount) !== w.shard);
  if (misplaced)
    throw mismatch(
      shardCount,
      `wallet ${misplaced.id} is registered on shard ${misplaced.shard} in this ledger database, not on ${misplaced.id} % ${shardCount} = ${shardOf(misplaced.id, shardCount)}`,
    );
}

function mismatch(shardCount: number, why: string): StartupError {
  return new StartupError(
    `SHARD_ADDRESS_* names ${shardCount} shard${shardCount === 1 ? '' : 's'}, but ${why}: every orchestrator on it needs the same shard list, in the same order, and the number of shards cannot change once wallets exist`,
  );
}
