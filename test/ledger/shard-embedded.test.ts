/**
 * The shard's operation functions (PL/pgSQL, batched into one statement) on the embedded
 * database: the zero-set-up stack runs its shards on PGlite, so the same SQL must hold there.
 * One PGlite instance for the file, two shard schemas in it (as the stack does).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SQLSTATE, sqlState, type Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { IN_MEMORY, openEmbedded } from '../../src/kernel/db/pglite.js';
import { MAX_AMOUNT_HUNDREDTHS, MAX_BALANCE_HUNDREDTHS } from '../../src/kernel/money.js';
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
    assert.deepEqual(await migrate(db, schema, shardMigrations(schema)), [1, 4]);
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

const MAX = MAX_BALANCE_HUNDREDTHS;

/** Deposits into `wallet` until its balance is `target` (each deposit at most the largest amount). */
async function fill(store: ShardStore, wallet: string, target: number): Promise<void> {
  for (let left = target, i = 0; left > 0; i++) {
    const amount = Math.min(left, MAX_AMOUNT_HUNDREDTHS);
    assert.deepEqual(await store.deposit(`fill-${wallet}-${i}`, wallet, amount), { result: 'confirmed' });
    left -= amount;
  }
}

async function incoming(schema: string, wallet: string): Promise<number> {
  const rows = await db.query<{ incoming: number }>(`select incoming from ${schema}.wallets where id = $1`, [wallet]);
  return rows[0]?.incoming ?? Number.NaN;
}

test('no credit takes a wallet above the maximum balance: deposit and local transfer refused, recorded, nothing moved', async () => {
  for (const id of ['5', '7']) assert.deepEqual(await a.createWallet(id), { result: 'created' });
  await fill(a, '5', MAX);
  assert.deepEqual(await a.wallet('5'), { result: 'ok', wallet_id: '5', balance: MAX, reserved: 0 });
  assert.deepEqual(await a.deposit('over', '5', 1), { result: 'balance_limit' });
  assert.deepEqual(await a.deposit('over', '5', 1), { result: 'balance_limit' });
  assert.deepEqual(await a.deposit('over', '5', 2), { result: 'conflict' });
  assert.deepEqual(await a.cancel('over'), { result: 'cancelled', reason: 'balance_limit' });
  assert.deepEqual(await a.deposit('d7', '7', 500), { result: 'confirmed' });
  assert.deepEqual(await a.transfer('into-full', '7', '5', 1), { result: 'balance_limit' });
  assert.deepEqual(await a.transfer('into-full', '7', '5', 1), { result: 'balance_limit' });
  // not enough funds is the sender's refusal, and comes first
  assert.deepEqual(await a.transfer('into-full-2', '7', '5', 501), { result: 'insufficient_funds' });
  assert.deepEqual(await a.wallet('5'), { result: 'ok', wallet_id: '5', balance: MAX, reserved: 0 });
  assert.deepEqual(await a.wallet('7'), { result: 'ok', wallet_id: '7', balance: 500, reserved: 0 });
  // out of the full wallet, then back in up to the maximum exactly
  assert.deepEqual(await a.transfer('out', '5', '7', 100), { result: 'confirmed' });
  assert.deepEqual(await a.transfer('back', '7', '5', 101), { result: 'balance_limit' });
  assert.deepEqual(await a.transfer('back-2', '7', '5', 100), { result: 'confirmed' });
  assert.deepEqual(await a.wallet('5'), { result: 'ok', wallet_id: '5', balance: MAX, reserved: 0 });
  // the CHECKs behind the functions
  for (const set of ['balance = balance + 1', 'incoming = 1', 'incoming = -1']) {
    await assert.rejects(db.query(`update shard_a.wallets set ${set} where id = '5'`), (err) => sqlState(err) === SQLSTATE.checkViolation, set);
  }
});

test('open pending credits count against the maximum: a confirm always fits; concurrent credits take exactly the room there is', async () => {
  for (const id of ['4', '6']) assert.deepEqual(await b.createWallet(id), { result: 'created' });
  await fill(b, '4', MAX - 1_000);
  assert.deepEqual(await b.reserve('pc1', '4', 'pending-credit', 600), { result: 'reserved' });
  assert.equal(await incoming('shard_b', '4'), 600);
  assert.deepEqual(await b.reserve('pc2', '4', 'pending-credit', 600), { result: 'balance_limit' });
  assert.deepEqual(await b.reserve('pc2', '4', 'pending-credit', 600), { result: 'balance_limit' });
  assert.deepEqual(await b.cancel('pc2'), { result: 'cancelled', reason: 'balance_limit' });
  // a deposit must leave room for the pending credit too
  assert.deepEqual(await b.deposit('d4', '4', 401), { result: 'balance_limit' });
  assert.deepEqual(await b.deposit('d4b', '4', 400), { result: 'confirmed' });
  assert.deepEqual(await b.confirm('pc1'), { result: 'confirmed' });
  assert.deepEqual(await b.wallet('4'), { result: 'ok', wallet_id: '4', balance: MAX, reserved: 0 });
  assert.equal(await incoming('shard_b', '4'), 0);
  // a cancelled pending credit gives its room back
  assert.deepEqual(await b.transfer('t4', '4', '2', 300), { result: 'confirmed' });
  assert.deepEqual(await b.reserve('pc3', '4', 'pending-credit', 300), { result: 'reserved' });
  assert.deepEqual(await b.cancel('pc3'), { result: 'cancelled', reason: 'cancelled' });
  assert.equal(await incoming('shard_b', '4'), 0);
  assert.deepEqual(await b.reserve('pc4', '4', 'pending-credit', 300), { result: 'reserved' });
  assert.deepEqual(await b.confirm('pc4'), { result: 'confirmed' });
  assert.deepEqual(await b.wallet('4'), { result: 'ok', wallet_id: '4', balance: MAX, reserved: 0 });

  // ten concurrent pending credits of 300 (one batch) with room for 1 000: exactly three fit
  await fill(b, '6', MAX - 1_000);
  const credits = await Promise.all(Array.from({ length: 10 }, (_, i) => b.reserve(`c${i}`, '6', 'pending-credit', 300)));
  assert.equal(credits.filter((c) => c.result === 'reserved').length, 3);
  assert.equal(credits.filter((c) => c.result === 'balance_limit').length, 7);
  assert.equal(await incoming('shard_b', '6'), 900);
  const confirmed = await Promise.all(Array.from({ length: 10 }, (_, i) => b.confirm(`c${i}`)));
  assert.equal(confirmed.filter((c) => c.result === 'confirmed').length, 3);
  assert.deepEqual(await b.wallet('6'), { result: 'ok', wallet_id: '6', balance: MAX - 100, reserved: 0 });
  assert.equal(await incoming('shard_b', '6'), 0);
});

test('migration 4 on a shard made before it: counts the open pending credits, which then confirm', async () => {
  const schema = 'shard_old';
  const all = shardMigrations(schema);
  assert.deepEqual(
    await migrate(
      db,
      schema,
      all.filter((m) => m.version === 1),
    ),
    [1],
  );
  // such a database also has versions 2 and 3 recorded (they created the functions back then)
  await db.exec(`insert into ${schema}.schema_migrations (version, name) values (2, 'functions'), (3, 'functions')`);
  await db.exec(`
    insert into ${schema}.wallets (id, balance) values ('8', 1000), ('9', 0);
    insert into ${schema}.transactions (tx_id, kind, wallet_id, amount, state) values
      ('open-1', 'pending-credit', '8', 250, 'reserved'), ('open-2', 'pending-credit', '8', 50, 'reserved'),
      ('done', 'pending-credit', '9', 70, 'confirmed'), ('hold', 'debit-hold', '8', 10, 'reserved');
    update ${schema}.wallets set reserved = 10 where id = '8';
  `);
  assert.deepEqual(await migrate(db, schema, all), [4]);
  await installShardFunctions(db, schema);
  assert.equal(await incoming(schema, '8'), 300);
  assert.equal(await incoming(schema, '9'), 0);
  const old = new ShardStore(db, schema);
  assert.deepEqual(await old.confirm('open-1'), { result: 'confirmed' });
  assert.deepEqual(await old.cancel('open-2'), { result: 'cancelled', reason: 'cancelled' });
  assert.deepEqual(await old.confirm('hold'), { result: 'confirmed' });
  assert.deepEqual(await old.wallet('8'), { result: 'ok', wallet_id: '8', balance: 1_240, reserved: 0 });
  assert.equal(await incoming(schema, '8'), 0);
});

test('migration 4 on a shard holding a wallet past the maximum: refused with the wallet named, nothing changed', async () => {
  const schema = 'shard_full';
  const all = shardMigrations(schema);
  await migrate(
    db,
    schema,
    all.filter((m) => m.version === 1),
  );
  await db.exec(`insert into ${schema}.schema_migrations (version, name) values (2, 'functions'), (3, 'functions')`);
  // under the maximum by itself, over it with the pending credit it has accepted
  await db.exec(`
    insert into ${schema}.wallets (id, balance) values ('5', ${MAX_BALANCE_HUNDREDTHS - 100}), ('6', 0);
    insert into ${schema}.transactions (tx_id, kind, wallet_id, amount, state) values ('over', 'pending-credit', '5', 200, 'reserved');
  `);
  await assert.rejects(migrate(db, schema, all), /wallets above the maximum balance .*: 5; with the previous version still running/);
  const columns = await db.query<{ n: number }>(
    `select count(*)::int as n from information_schema.columns where table_schema = $1 and table_name = 'wallets' and column_name = 'incoming'`,
    [schema],
  );
  assert.equal(columns[0]?.n, 0, 'the migration ran in part');
});
