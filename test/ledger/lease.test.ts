import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import type { CoordinatorEvent } from '../../src/ledger/orchestrator/coordinator.js';
import type { OrchestratorRunning } from '../../src/ledger/orchestrator/main.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { ADMIN_TOKEN, SHARD_TOKEN, deposit, recordEvents, startLedger, waitFinal, type LedgerUnderTest } from '../support/ledger.js';
import { startBin } from '../support/process.js';
import { eventually } from '../support/wait.js';

// Several orchestrator instances on one ledger database: each unfinished transaction is driven
// by the instance holding its lease; recovery takes over only leases that ran out.
const LEASE_MS = 1_000;
/** The leases of the instances a test watches: long enough that a loaded machine's stalls do not lose them. */
const WATCHED_LEASE_MS = 3_000;
const RECOVERY_MS = 200;
let ledger: LedgerUnderTest;
let sql: postgres.Sql;
let token: string;

interface LeaseRow {
  status: string;
  decision: string | null;
  lease_owner: string | null;
  /** The owner's lease (its row in ledger.instances); null without one. */
  alive_until: Date | null;
}
async function row(txId: string): Promise<LeaseRow> {
  const rows = await sql.unsafe<LeaseRow[]>(
    'select t.status, t.decision, t.lease_owner, i.alive_until from ledger.transactions t left join ledger.instances i on i.id = t.lease_owner where t.tx_id = $1',
    [txId],
  );
  assert.ok(rows[0], `no transaction ${txId}`);
  return rows[0];
}
async function balance(id: string) {
  return (await call(ledger.url, 'GET', `/api/user/balance/${id}`, { token })).json as { balance: number; reserved: number };
}
/** A cross-shard transfer left PROCESSING without a decision by instance `owner`, whose lease runs `leaseMs` from now (one statement: no sweep sees it half-written). */
async function leftProcessing(txId: string, owner: string, leaseMs: number): Promise<void> {
  await sql.unsafe(
    `with owner as (insert into ledger.instances (id, alive_until) values ($2, now() + $3 * interval '1 millisecond') returning id)
     insert into ledger.transactions (tx_id, kind, from_wallet, to_wallet, from_shard, to_shard, amount, status, note, lease_owner)
     select $1, 'transfer', '10', '11', 0, 1, 100, 'PROCESSING', 'transaction in processing', id from owner`,
    [txId, owner, leaseMs],
  );
}

before(async () => {
  ledger = await startLedger(2, { leaseMs: LEASE_MS, recoveryIntervalMs: RECOVERY_MS, confirmationLimitMs: 1_000 });
  sql = postgres(ledger.ledgerDb.url, { max: 1, onnotice: () => undefined });
  token = await signUp(ledger.url, uniqueLogin('lease'), 'lease-password', '/auth/register');
  for (const id of ['10', '11', '12'])
    assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  await waitFinal(ledger.url, token, '10', await deposit(ledger.url, '10', 100));
});

after(async () => {
  await sql?.end();
  await ledger?.stop();
});

test('recovery leaves alone a transaction another live instance holds, and takes it once the lease ran out', async () => {
  // a long lease held by an instance that is not this one: as if it were busy driving it
  await leftProcessing('held-elsewhere', 'another-live-instance', 60_000);
  await ledger.orchestrator.recovery.sweep();
  const untouched = await row('held-elsewhere');
  assert.deepEqual([untouched.status, untouched.decision, untouched.lease_owner], ['PROCESSING', null, 'another-live-instance']);
  // that instance stops renewing: once the lease has run out, the next sweep takes it over and
  // resolves it as SPEC says for a PROCESSING transaction without a decision (abort)
  await sql.unsafe(`update ledger.instances set alive_until = now() - interval '1 millisecond' where id = 'another-live-instance'`);
  await ledger.orchestrator.recovery.sweep();
  const item = await waitFinal(ledger.url, token, '10', 'held-elsewhere');
  assert.deepEqual([item.status, item.note], ['FAILED', 'transaction confirmation limit exceeded']);
  assert.equal((await row('held-elsewhere')).lease_owner, ledger.orchestrator.instanceId);
  assert.deepEqual(await balance('10'), { wallet_id: '10', balance: 100, reserved: 0 });
});

test("a final status kept for the lease holder is not written over another instance's transaction", async () => {
  await leftProcessing('held-for-finish', 'another-holder', 60_000);
  const failed = { status: 'FAILED', note: 'transaction confirmation limit exceeded' } as const;
  assert.equal(await ledger.orchestrator.store.finish('held-for-finish', failed, true), false);
  const kept = await row('held-for-finish');
  assert.deepEqual([kept.status, kept.lease_owner], ['PROCESSING', 'another-holder']);
  // (the write for a transaction this instance holds is the shard-gone test's, orchestrator.test.ts)
  await sql.unsafe(`delete from ledger.transactions where tx_id = 'held-for-finish'`);
});

test('the heartbeat keeps the leases of a live instance: nobody takes its transactions over', async () => {
  // only the heartbeat renews here: this instance's own recovery does not run again
  const live = await ledger.addOrchestrator({ leaseMs: WATCHED_LEASE_MS, recoveryIntervalMs: 600_000 });
  await ledger.freezeShard(1);
  let txId = '';
  try {
    const r = await call(live.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '11', amount: 1 } });
    assert.equal(r.status, 202);
    txId = (r.json as { tx_id: string }).tx_id;
    const first = await row(txId);
    assert.equal(first.lease_owner, live.instanceId);
    // unfinished while shard 1 is away; its lease moves on well past the first expiry, and the
    // other instance's recovery (every 200 ms) never takes it
    const firstUntil = first.alive_until?.getTime() ?? 0;
    const renewed = await eventually(
      'a lease renewed past its first expiry',
      async () => {
        const now = await row(txId);
        return (now.alive_until?.getTime() ?? 0) > firstUntil + WATCHED_LEASE_MS ? now : undefined;
      },
      20_000,
    );
    assert.ok(['PENDING', 'PROCESSING'].includes(renewed.status));
    assert.equal(renewed.lease_owner, live.instanceId);
  } finally {
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  await live.stop();
  assert.equal((await waitFinal(ledger.url, token, '10', txId)).status, 'FAILED');
});

test('an instance stopped cleanly gives its leases up: another finishes its transactions at once', async () => {
  const other: OrchestratorRunning = await ledger.addOrchestrator({ leaseMs: 600_000, recoveryIntervalMs: 600_000 });
  await ledger.freezeShard(1);
  let txId = '';
  try {
    const r = await call(other.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '11', amount: 2 } });
    assert.equal(r.status, 202);
    txId = (r.json as { tx_id: string }).tx_id;
    assert.equal((await row(txId)).lease_owner, other.instanceId);
    await other.stop();
    const released = await row(txId);
    assert.ok(['PENDING', 'PROCESSING'].includes(released.status), released.status);
    // given up: without an owner, or already taken by the other live instance, whose recovery
    // (every RECOVERY_MS) may have run between the stop and this read
    assert.ok([null, ledger.orchestrator.instanceId].includes(released.lease_owner), `lease not released: ${released.lease_owner}`);
  } finally {
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  // far within the 10-minute lease the other instance had
  const item = await waitFinal(ledger.url, token, '10', txId, 15_000);
  assert.ok(['FAILED', 'SUCCESSFUL'].includes(item.status), item.status);
  assert.equal((await row(txId)).lease_owner, ledger.orchestrator.instanceId);
  assert.equal((await balance('10')).reserved, 0);
});

test('an instance killed for good: the others finish its transactions within lease + recovery interval', async () => {
  const env: Record<string, string> = {
    DATABASE_URI: ledger.ledgerDb.url,
    SHARD_TOKEN,
    ADMIN_TOKEN,
    LEASE_DURATION: `${WATCHED_LEASE_MS}ms`,
    RECOVERY_INTERVAL: '1h', // only the in-process instance's recovery may finish it
    CONFIRMATION_LIMIT: '1s',
    LOG_LEVEL: 'error',
  };
  ledger.shardPorts.forEach((p, i) => {
    env[`SHARD_ADDRESS_${i + 1}`] = `127.0.0.1:${p}`;
  });
  const doomed = await startBin('orchestrator', env);
  let killedAt = 0;
  const events = recordEvents(ledger.orchestrator.coordinator);
  const finishedAt = new Map<CoordinatorEvent, number>();
  const unwatch = ledger.orchestrator.coordinator.observe((e) => {
    if (e.type === 'finished') finishedAt.set(e, Date.now() - killedAt);
  });
  await ledger.freezeShard(1);
  let txId = '';
  try {
    // the same JWT secret (stored in the ledger database), so the token works on both
    const r = await call(doomed.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '11', amount: 3 } });
    assert.equal(r.status, 202, r.text);
    txId = (r.json as { tx_id: string }).tx_id;
    const owner = (await row(txId)).lease_owner;
    assert.ok(owner && owner !== ledger.orchestrator.instanceId);
    await doomed.stop('SIGKILL');
    killedAt = Date.now();
  } finally {
    await doomed.stop('SIGKILL');
    if (!ledger.shards[1]) await ledger.startShardAt(1);
  }
  // the moment this instance writes the final status, not when a poll happens to see it
  const finished = await events.waitFor('finished here', (e) => e.type === 'finished' && e.txId === txId, 30_000);
  const took = finishedAt.get(finished) ?? Number.POSITIVE_INFINITY;
  events.stop();
  const item = await waitFinal(ledger.url, token, '10', txId);
  assert.ok(['FAILED', 'SUCCESSFUL'].includes(item.status), item.status);
  assert.equal((await row(txId)).lease_owner, ledger.orchestrator.instanceId);
  unwatch();
  // lease + recovery interval, plus generous room for a loaded machine
  assert.ok(took < WATCHED_LEASE_MS + RECOVERY_MS + 10_000, `finished ${took} ms after the kill`);
  assert.equal((await balance('10')).reserved, 0);
});
