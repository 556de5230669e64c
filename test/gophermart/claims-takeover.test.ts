/**
 * Claims of a process that is gone are ended at once (GophermartStore.releaseClaimsOfGone), on
 * both databases: on PostgreSQL a claimer is alive while a connection carries its session name,
 * on the embedded database (one process alone) only this process's own claimers are.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { IN_MEMORY, openEmbedded } from '../../src/kernel/db/pglite.js';
import { openPostgres } from '../../src/kernel/db/postgres.js';
import { SCHEMA, migrations } from '../../src/gophermart/migrations.js';
import { GophermartStore } from '../../src/gophermart/store.js';
import { orderNumber } from '../support/accrual.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

async function claimedBy(db: Database, numbers: string[]): Promise<Record<string, string | null>> {
  const rows = await db.query<{ number: string; claimed_by: string | null }>(
    'select number, claimed_by from gophermart.orders where number = any($1::text[]) and claimed_until > now()',
    [numbers],
  );
  return Object.fromEntries(numbers.map((n) => [n, rows.find((r) => r.number === n)?.claimed_by ?? null]));
}

/** Orders claimed (for an hour) by each of `claimers`, one order each; returns the numbers in that order. */
async function claimedOrders(store: GophermartStore, claimers: string[]): Promise<string[]> {
  const user = await store.createUser(`claims-${orderNumber()}`, 'x');
  assert.ok(user !== null);
  const numbers: string[] = [];
  for (const claimer of claimers) {
    const n = orderNumber();
    await store.insertOrder(user, n);
    // each claim takes the oldest due order: the one just uploaded, as the others are claimed already
    const [claimed] = await store.claimDueOrders(1, 3_600_000, claimer);
    assert.equal(claimed?.number, n);
    numbers.push(n);
  }
  return numbers;
}

describe('claims of a process that is gone', () => {
  test('embedded database: every claimer but the running ones is gone', async () => {
    const db = await openEmbedded(IN_MEMORY);
    try {
      await migrate(db, SCHEMA, migrations);
      const store = new GophermartStore(db);
      const [mine, gone] = await claimedOrders(store, ['poller-here', 'poller-of-a-dead-process']);
      assert.equal(await store.releaseClaimsOfGone(['poller-here'], false), 1);
      assert.deepEqual(await claimedBy(db, [mine as string, gone as string]), { [mine as string]: 'poller-here', [gone as string]: null });
      // released means due again: the next claim takes it
      assert.equal((await store.claimDueOrders(5, 60_000, 'poller-here')).map((o) => o.number).join(), gone);
    } finally {
      await db.close();
    }
  });

  describe('PostgreSQL: alive while a connection carries the claimer session name', () => {
    let fresh: FreshDatabase;
    let db: Database;
    let other: Database;
    before(async () => {
      fresh = await freshDatabase('gm_claims');
      db = await openPostgres({ url: fresh.url, poolSize: 2 });
      other = await openPostgres({ url: fresh.url, poolSize: 2, applicationName: 'gophermart-other' });
      await migrate(db, SCHEMA, migrations);
    });
    after(async () => {
      await db?.close();
      await other?.close();
      await fresh?.drop();
    });

    test('a connected process keeps its claims, a gone one loses them; a closed pool counts as gone', async () => {
      const store = new GophermartStore(db);
      assert.ok(db.session && other.session && db.session !== other.session, 'each pool has a session name of its own');
      const [mine, connected, gone] = await claimedOrders(store, [db.session as string, other.session as string, 'gophermart 00000000-dead']);
      assert.equal(await store.releaseClaimsOfGone([db.session as string], true), 1);
      assert.deepEqual(await claimedBy(db, [mine as string, connected as string, gone as string]), {
        [mine as string]: db.session,
        [connected as string]: other.session,
        [gone as string]: null,
      });
      await other.close();
      // its server processes leave pg_stat_activity as they exit, just after the sockets close
      let released = 0;
      for (const deadline = Date.now() + 10_000; released === 0 && Date.now() < deadline; ) {
        released = await store.releaseClaimsOfGone([db.session as string], true);
        if (released === 0) await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(released, 1);
      assert.deepEqual(await claimedBy(db, [connected as string]), { [connected as string]: null });
    });
  });
});
