import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { SCHEMA, migrations } from '../../src/gophermart/migrations.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { orderNumber } from './api-suite.js';

// Uploads that arrive while a batch is being written share the next statement
// (GophermartStore.insertOrders). Calls made in one tick, after a first call that takes the
// batcher's only flush, are one batch: every case a batch can hold, at once.

let fresh: FreshDatabase;
let db: Database;
let store: GophermartStore;
let alice: number;
let bob: number;
const changed: number[] = [];

before(async () => {
  fresh = await freshDatabase('gm_batch');
  db = await openDatabase({ url: fresh.url, embeddedDir: 'unused', poolSize: 4, applicationName: 'test' });
  await migrate(db, SCHEMA, migrations);
  store = new GophermartStore(db, { userChanged: (id) => void changed.push(id) });
  alice = (await store.createUser('batch-alice', 'x')) as number;
  bob = (await store.createUser('batch-bob', 'x')) as number;
});

after(async () => {
  await db?.close();
  await fresh?.drop();
});

test('one batch: new, repeated, taken, already registered and unknown-user uploads each get their own answer', async () => {
  const registered = orderNumber();
  assert.deepEqual(await store.insertOrder(bob, registered), { outcome: 'created' });
  const fresh1 = orderNumber();
  const fresh2 = orderNumber();
  const fresh3 = orderNumber();
  changed.length = 0;
  const answers = await Promise.all([
    store.insertOrder(alice, orderNumber()), // takes the flush; the rest wait for the next one
    store.insertOrder(alice, fresh1),
    store.insertOrder(alice, fresh1),
    store.insertOrder(bob, fresh1),
    store.insertOrder(alice, registered),
    store.insertOrder(bob, registered),
    store.insertOrder(987_654_321, fresh2),
    store.insertOrder(bob, fresh2),
    store.insertOrder(bob, fresh3),
  ]);
  assert.deepEqual(answers, [
    { outcome: 'created' },
    { outcome: 'created' },
    { outcome: 'exists', ownedByCaller: true, status: 'NEW' },
    { outcome: 'exists', ownedByCaller: false, status: 'NEW' },
    { outcome: 'exists', ownedByCaller: false, status: 'NEW' },
    { outcome: 'exists', ownedByCaller: true, status: 'NEW' },
    'unknown_user',
    { outcome: 'created' },
    { outcome: 'created' },
  ]);
  assert.deepEqual(
    changed.sort((a, b) => a - b),
    [alice, alice, bob, bob].sort((a, b) => a - b),
    'a change announced for each order written, no other',
  );
  const owners = await db.query<{ number: string; user_id: number }>(
    'select number, user_id from gophermart.orders where number = any($1::text[]) order by id',
    [[fresh1, fresh2, fresh3]],
  );
  assert.deepEqual(
    owners.map((o) => [o.number, Number(o.user_id)]),
    [
      [fresh1, alice],
      [fresh3, bob],
      [fresh2, bob],
    ],
    'written in arrival order, the repeat that found no owner last',
  );
});

test('many concurrent uploads of distinct numbers: all written, each once, listed in arrival order', async () => {
  const numbers = Array.from({ length: 300 }, () => orderNumber());
  const answers = await Promise.all(numbers.map((n) => store.insertOrder(alice, n)));
  assert.ok(answers.every((a) => typeof a === 'object' && a.outcome === 'created'));
  const listed = (await store.listOrders(alice)).map((o) => o.number);
  assert.deepEqual(listed.slice(-300), numbers);
});
