/**
 * The shard's operation functions (PL/pgSQL, batched into one statement) on the embedded
 * database: the zero-set-up stack runs its shards on PGlite, so the same SQL must hold there.
 * One PGlite instance for the file, two shard schemas in it (as the stack does).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { IN_MEMORY, openEmbedded } from '../../src/kernel/db/pglite.js';
import { installShardFunctions } from '../../src/ledger/shard/functions.js';
import { shardMigrations } from '../../src/ledger/shard/migrations.js';
import { ShardStore } from '../../src/ledger/shard/store.js';

let db: Database;
let a: ShardStore;
let b: ShardStore;

before(async () => {
  db = await openEmbedded(IN_MEMORY);
  for (const schema of ['shard_a', 'shard_b']) {
    // migrations hold the tables; the functions are (re)installed at every start, idempotently
    assert.deepEqual(await migrate(db, schema, shardMigrations(schema)), [1]);
    await installShardFunctions(db, schema);
    await installShardFunctions(db, schema);
  }
  a = new ShardStore(db, 'shard_a');
  b = new ShardStore(db, 'shard_b');
  for (const id of ['1', '3']) assert.deepEqual(await a.createWallet(id), { result: 'created' });
  assert.deepEqual(await b.createWallet('2'), { result: 'created' });
});

after(async () => {
  await db?.close();
});

test('deposit and local transfer: once per id, refusals recorded, conflicts detected', async () => {
  assert.deepEqual(await a.deposit('d1', '1', 1_000), { result: 'confirmed' });
  assert.deepEqual(await a.deposit('d1', '1', 1_000), { result: 'confirmed' });
  assert.deepEqual(await a.deposit('d2', '9', 5), { result: 'unknown_wallet', wallet_id: '9' });
  assert.deepEqual(await a.transfer('t1', '1', '3', 300), { result: 'confirmed' });
  assert.deepEqual(await a.transfer('t1', '1', '3', 300), { result: 'confirmed' });
  assert.deepEqual(await a.transfer('t1', '1', '3', 301), { result: 'conflict' });
  assert.deepEqual(await a.transfer('t2', '1', '3', 5_000), { result: 'insufficient_funds' });
  assert.deepEqual(await a.transfer('t2', '1', '3', 5_000), { result: 'insufficient_funds' });
  assert.deepEqual(await a.transfer('t3', '1', '5', 1), { result: 'unknown_wallet', wallet_id: '5' });
  assert.deepEqual(await a.cancel('t3'), { result: 'cancelled', reason: 'unknown_wallet', wallet_id: '5' });
  assert.deepEqual(await a.cancel('t1'), { result: 'confirmed' });
  assert.deepEqual(await a.wallet('1'), { result: 'ok', wallet_id: '1', balance: 700, reserved: 0 });
  assert.deepEqual(await a.wallet('3'), { result: 'ok', wallet_id: '3', balance: 300, reserved: 0 });
});

test('two-phase commit across schemas, cancel before reserve, concurrent holds never overdraw', async () => {
  assert.deepEqual(await a.reserve('x1', '1', 'debit-hold', 200), { result: 'reserved' });
  assert.deepEqual(await b.reserve('x1', '2', 'pending-credit', 200), { result: 'reserved' });
  assert.deepEqual(await a.wallet('1'), { result: 'ok', wallet_id: '1', balance: 700, reserved: 200 });
  assert.deepEqual(await b.confirm('x1'), { result: 'confirmed' });
  assert.deepEqual(await a.confirm('x1'), { result: 'confirmed' });
  assert.deepEqual(await a.confirm('x1'), { result: 'confirmed' });
  assert.deepEqual(await a.confirm('nope'), { result: 'not_found' });
  assert.deepEqual(await b.wallet('2'), { result: 'ok', wallet_id: '2', balance: 200, reserved: 0 });
  assert.deepEqual(await a.wallet('1'), { result: 'ok', wallet_id: '1', balance: 500, reserved: 0 });

  assert.deepEqual(await a.cancel('x2'), { result: 'cancelled', reason: 'cancelled' });
  assert.deepEqual(await a.reserve('x2', '1', 'debit-hold', 100), { result: 'cancelled' });
  assert.deepEqual(await a.confirm('x2'), { result: 'cancelled' });

  // ten concurrent holds of 100 (one batch) on 500: exactly five succeed
  const holds = await Promise.all(Array.from({ length: 10 }, (_, i) => a.reserve(`h${i}`, '1', 'debit-hold', 100)));
  assert.equal(holds.filter((h) => h.result === 'reserved').length, 5);
  assert.equal(holds.filter((h) => h.result === 'insufficient_funds').length, 5);
  const released = await Promise.all(Array.from({ length: 10 }, (_, i) => a.cancel(`h${i}`)));
  assert.ok(released.every((r) => r.result === 'cancelled'));
  assert.deepEqual(await a.wallet('1'), { result: 'ok', wallet_id: '1', balance: 500, reserved: 0 });
});
