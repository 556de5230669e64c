/**
 * Every orchestrator on one ledger database places wallets by the same N (`id % N`): the first
 * records N, a later one with another N is refused while wallets exist (checkShardLayout).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { IN_MEMORY, openEmbedded } from '../../src/kernel/db/pglite.js';
import { StartupError } from '../../src/kernel/startup.js';
import { SCHEMA, migrations } from '../../src/ledger/orchestrator/migrations.js';
import { checkShardLayout } from '../../src/ledger/orchestrator/shard-layout.js';

let db: Database;

before(async () => {
  db = await openEmbedded(IN_MEMORY);
  await migrate(db, SCHEMA, migrations);
});

after(async () => {
  await db?.close();
});

const recorded = async () => (await db.query<{ value: string }>(`select value from ledger.settings where key = 'shard_count'`))[0]?.value;
const refused = (pattern: RegExp) => (err: unknown) => err instanceof StartupError && pattern.test(err.message);

test('an empty registry takes any number of shards and records the last; with wallets only that number starts', async () => {
  await checkShardLayout(db, 3);
  assert.equal(await recorded(), '3');
  await checkShardLayout(db, 2); // nothing placed yet: the ledger is still being set up
  assert.equal(await recorded(), '2');

  const [user] = await db.query<{ id: number }>(`insert into ledger.users (login, password_hash) values ('layout', 'x') returning id`);
  await db.query(`insert into ledger.wallets (id, owner_id, shard) values ('10', $1, 0), ('11', $1, 1)`, [user?.id]);
  await checkShardLayout(db, 2);
  await assert.rejects(checkShardLayout(db, 1), refused(/^SHARD_ADDRESS_\* names 1 shard, but this ledger database's wallets are placed on 2 shards/));
  await assert.rejects(checkShardLayout(db, 3), refused(/names 3 shards, but this ledger database's wallets are placed on 2 shards/));
  assert.equal(await recorded(), '2', 'a refused instance changes nothing');
});

test('a ledger database from before the record: its wallets must sit on id % N', async () => {
  await db.query(`delete from ledger.settings where key = 'shard_count'`);
  await assert.rejects(checkShardLayout(db, 3), refused(/wallet 10 is registered on shard 0 in this ledger database, not on 10 % 3 = 1/));
  await db.query(`delete from ledger.settings where key = 'shard_count'`);
  await checkShardLayout(db, 2);
  assert.equal(await recorded(), '2');
});
