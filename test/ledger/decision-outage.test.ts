import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { deposit, recordEvents, startLedger, waitFinal, type LedgerUnderTest } from '../support/ledger.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';

// The ledger database on a private PostgreSQL server that the test stops at the one moment
// that matters: a cross-shard transfer has been reserved on both shards and its commit decision
// is about to be written. The shards are on the machine's server and stay up throughout.
let cluster: PgCluster;
let ledger: LedgerUnderTest;
let token: string;

async function balance(id: string) {
  return (await call(ledger.url, 'GET', `/api/user/balance/${id}`, { token })).json as { balance: number; reserved: number };
}

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  const ledgerUrl = await cluster.createDatabase('ledger');
  // a confirmation limit far above the moments the test holds the reserve, and a sweep that
  // comes round quickly once the database is back (it would abort a transfer without a decision)
  ledger = await startLedger(2, { databaseUri: ledgerUrl, confirmationLimitMs: 20_000, recoveryIntervalMs: 200 });
  token = await signUp(ledger.url, uniqueLogin('decision-outage'), 'pw-decision-outage', '/auth/register');
  for (const id of ['10', '11']) assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  await waitFinal(ledger.url, token, '10', await deposit(ledger.url, '10', 100));
});

after(async () => {
  await ledger?.stop();
  await cluster?.destroy();
});

test('the ledger database away between phase 1 and the decision: the commit is written once it is back, the transfer SUCCESSFUL', async () => {
  // the receiver's row locked on its shard: the pending credit waits there, so the database can
  // be stopped while the transfer is reserved on the sender's shard and about to be decided
  const shardSql = postgres(ledger.shardDbs[1]?.url ?? '', { max: 2, onnotice: () => undefined });
  const events = recordEvents(ledger.orchestrator.coordinator);
  let release = (): void => undefined;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let lock: Promise<unknown> = Promise.resolve();
  try {
    await new Promise<void>((locked, failed) => {
      lock = shardSql
        .begin(async (tx) => {
          await tx.unsafe(`select 1 from shard.wallets where id = '11' for update`);
          locked();
          await held;
        })
        .catch(failed);
    });
    const r = await call(ledger.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '11', amount: '2.50' } });
    assert.equal(r.status, 202, r.text);
    const txId = (r.json as { tx_id: string }).tx_id;
    for (let i = 0; ; i++) {
      const waiting = Number(
        (await shardSql.unsafe(`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`))[0]?.n,
      );
      if (waiting >= 1) break;
      assert.ok(i < 400, 'the pending credit never waited on the shard');
      await new Promise((res) => setTimeout(res, 25));
    }
    await cluster.stop('immediate');
    release();
    await lock;
    // the credit is reserved now and the decision cannot be written; give the coordinator time
    // to find that out more than once
    await new Promise((res) => setTimeout(res, 1_500));
    await cluster.start();
    const entry = await waitFinal(ledger.url, token, '10', txId, 15_000);
    assert.equal(entry.status, 'SUCCESSFUL', `${entry.status}: ${entry.note} (the shards reserved it; only the ledger database was away)`);
    assert.ok(!events.seen().some((e) => e.type === 'decided' && e.txId === txId && e.decision.decision === 'abort'), 'aborted');
    assert.deepEqual(await balance('10'), { wallet_id: '10', balance: 97.5, reserved: 0 });
    assert.deepEqual(await balance('11'), { wallet_id: '11', balance: 2.5, reserved: 0 });
  } finally {
    release();
    events.stop();
    await shardSql.end();
  }
});
