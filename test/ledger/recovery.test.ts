import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { SHARD_TOKEN, deposit, recordEvents, startLedger, waitFinal, type LedgerUnderTest } from '../support/ledger.js';

// Transactions left behind by a "crashed" orchestrator are written straight into the log and
// the shards; the recovery sweep must settle each as SPEC §3 says.
let ledger: LedgerUnderTest;
let sql: postgres.Sql;
let token: string;

const shardUrl = (i: number) => `http://127.0.0.1:${ledger.shardPorts[i]}`;
async function shardOp(i: number, method: string, path: string, body?: object) {
  const r = await call(shardUrl(i), method, path, { token: SHARD_TOKEN, ...(body ? { body } : {}) });
  assert.equal(r.status, 200, r.text);
  return r.json as Record<string, unknown>;
}
async function balance(id: string) {
  return (await call(ledger.url, 'GET', `/api/user/balance/${id}`, { token })).json as { balance: number; reserved: number };
}
async function leftBehind(txId: string, from: string, to: string, amount: number, status: string, decision: string | null) {
  await ledger.orchestrator.store.insertTransaction({
    tx_id: txId,
    kind: 'transfer',
    from_wallet: from,
    to_wallet: to,
    from_shard: Number(BigInt(from) % 2n),
    to_shard: Number(BigInt(to) % 2n),
    amount,
  });
  await sql.unsafe(
    `update ledger.transactions set status = $2, decision = $3, outcome_status = case when $3::text = 'commit' then 'SUCCESSFUL' end, outcome_note = case when $3::text = 'commit' then 'transaction completed' end where tx_id = $1`,
    [txId, status, decision],
  );
}

before(async () => {
  ledger = await startLedger(2, { recoveryIntervalMs: 3_600_000, confirmationLimitMs: 1_000 });
  sql = postgres(ledger.ledgerDb.url, { max: 1, onnotice: () => undefined });
  token = await signUp(ledger.url, uniqueLogin('rec'), 'pw-recovery', '/auth/register');
  for (const id of ['10', '11', '12', '13'])
    assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  await waitFinal(ledger.url, token, '10', await deposit(ledger.url, '10', 100));
});

after(async () => {
  await sql?.end();
  await ledger?.stop();
});

test('decision commit recorded, holds still open → recovery confirms both', async () => {
  await leftBehind('rec-commit', '10', '11', 1_000, 'PROCESSING', 'commit');
  assert.equal((await shardOp(0, 'POST', '/internal/tx/rec-commit/reserve', { wallet_id: '10', kind: 'debit-hold', amount: 1_000 })).result, 'reserved');
  assert.equal((await shardOp(1, 'POST', '/internal/tx/rec-commit/reserve', { wallet_id: '11', kind: 'pending-credit', amount: 1_000 })).result, 'reserved');
  await ledger.orchestrator.recovery.sweep();
  assert.equal((await waitFinal(ledger.url, token, '10', 'rec-commit')).status, 'SUCCESSFUL');
  assert.deepEqual(await balance('10'), { wallet_id: '10', balance: 90, reserved: 0 });
  assert.equal((await balance('11')).balance, 10);
});

test('no decision, one hold open → recovery aborts: hold released, late reserve refused, FAILED', async () => {
  await leftBehind('rec-abort', '10', '11', 2_000, 'PROCESSING', null);
  assert.equal((await shardOp(0, 'POST', '/internal/tx/rec-abort/reserve', { wallet_id: '10', kind: 'debit-hold', amount: 2_000 })).result, 'reserved');
  assert.equal((await balance('10')).reserved, 20);
  await ledger.orchestrator.recovery.sweep();
  const item = await waitFinal(ledger.url, token, '10', 'rec-abort');
  assert.deepEqual([item.status, item.note], ['FAILED', 'transaction confirmation limit exceeded']);
  assert.deepEqual(await balance('10'), { wallet_id: '10', balance: 90, reserved: 0 });
  // the reserve that was still on its way to shard 1 arrives after the cancel: refused for good
  assert.equal((await shardOp(1, 'POST', '/internal/tx/rec-abort/reserve', { wallet_id: '11', kind: 'pending-credit', amount: 2_000 })).result, 'cancelled');
  assert.equal((await balance('11')).balance, 10);
  const row = (await sql.unsafe(`select decision from ledger.transactions where tx_id = 'rec-abort'`))[0];
  assert.equal(row?.decision, 'abort');
});

test('PENDING cross-shard transfer that never left → recovery runs it', async () => {
  await leftBehind('rec-pending', '10', '13', 500, 'PENDING', null);
  await ledger.orchestrator.recovery.sweep();
  assert.equal((await waitFinal(ledger.url, token, '10', 'rec-pending')).status, 'SUCCESSFUL');
  assert.equal((await balance('13')).balance, 5);
  assert.equal((await balance('10')).balance, 85);
});

test('same-shard transfer applied on the shard but not logged → recovery finds it applied, once', async () => {
  await leftBehind('rec-local', '10', '12', 500, 'PENDING', null);
  assert.equal((await shardOp(0, 'POST', '/internal/tx/rec-local/transfer', { from_id: '10', to_id: '12', amount: 500 })).result, 'confirmed');
  await ledger.orchestrator.recovery.sweep();
  assert.equal((await waitFinal(ledger.url, token, '10', 'rec-local')).status, 'SUCCESSFUL');
  assert.equal((await balance('12')).balance, 5);
  assert.equal((await balance('10')).balance, 80);
});

test('wallet registered but never created on its shard → recovery creates it', async () => {
  const userId = Number((await sql.unsafe(`select id from ledger.users limit 1`))[0]?.id);
  await sql.unsafe(`insert into ledger.wallets (id, owner_id, shard) values ('21', $1, 1)`, [userId]);
  assert.deepEqual(await shardOp(1, 'GET', '/internal/wallets/21'), { result: 'unknown_wallet' });
  await ledger.orchestrator.recovery.sweep();
  assert.equal((await shardOp(1, 'GET', '/internal/wallets/21')).result, 'ok');
  assert.equal((await sql.unsafe(`select state from ledger.wallets where id = '21'`))[0]?.state, 'active');
});

test('a shard answer that contradicts the recorded commit is never turned into a final status', async () => {
  // a commit is recorded, but neither shard holds anything for it (as if a shard's database had
  // been restored from an old backup): the confirms answer not_found, which no decision explains
  const before = [await balance('12'), await balance('13')];
  await leftBehind('rec-lie', '12', '13', 500, 'PROCESSING', 'commit');
  const events = recordEvents(ledger.orchestrator.coordinator);
  try {
    await ledger.orchestrator.recovery.sweep();
    // the coordinator gives it back instead of finishing it
    await events.waitFor('left for an operator', (e) => e.type === 'left' && e.txId === 'rec-lie');
    assert.ok(!events.seen().some((e) => e.type === 'finished' && e.txId === 'rec-lie'), 'written final');
  } finally {
    events.stop();
  }
  const rows = await sql.unsafe<Array<{ status: string }>>('select status from ledger.transactions where tx_id = $1', ['rec-lie']);
  assert.equal(rows[0]?.status, 'PROCESSING', 'left for an operator, not written SUCCESSFUL');
  assert.deepEqual([await balance('12'), await balance('13')], before, 'no money moved');
});

test('a same-shard transfer the shard applies late is SUCCESSFUL at once, not left for the sweep', async () => {
  // the receiver's row locked on the shard: the transfer waits there past the confirmation
  // limit, so the orchestrator cancels; the cancel waits behind the transfer and, once the lock
  // goes, answers that the transfer came first. Recovery (hourly here) must not be what ends it.
  const shardSql = postgres(ledger.shardDbs[0]?.url ?? '', { max: 1, onnotice: () => undefined });
  const events = recordEvents(ledger.orchestrator.coordinator);
  let release = (): void => undefined;
  const held = new Promise<void>((r) => {
    release = r;
  });
  try {
    const [before10, before12] = [await balance('10'), await balance('12')];
    const locked = new Promise<void>((lockedResolve, lockedReject) => {
      shardSql
        .begin(async (tx) => {
          await tx.unsafe(`select 1 from shard.wallets where id = '12' for update`);
          lockedResolve();
          await held;
        })
        .catch(lockedReject);
    });
    await locked;
    const r = await call(ledger.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '12', amount: '0.03' } });
    assert.equal(r.status, 202, r.text);
    const txId = (r.json as { tx_id: string }).tx_id;
    // the transfer is waiting on the shard; past the confirmation limit (1 s here) the
    // orchestrator has given up on it and cancels
    const probe = postgres(ledger.shardDbs[0]?.url ?? '', { max: 1, onnotice: () => undefined });
    try {
      for (let i = 0; ; i++) {
        const waiting = Number(
          (await probe.unsafe(`select count(*) as n from pg_stat_activity where wait_event_type = 'Lock' and datname = current_database()`))[0]?.n,
        );
        if (waiting >= 1) break;
        assert.ok(i < 400, 'the transfer never waited on the shard');
        await new Promise((res) => setTimeout(res, 25));
      }
    } finally {
      await probe.end();
    }
    await new Promise((res) => setTimeout(res, 1_500));
    release();
    const finished = await events.waitFor('finished', (e) => (e.type === 'finished' || e.type === 'left') && e.txId === txId, 10_000);
    assert.equal(finished.type, 'finished', 'left for an operator instead of finished');
    assert.equal((await waitFinal(ledger.url, token, '10', txId, 1_000)).status, 'SUCCESSFUL');
    assert.equal((await balance('10')).balance, before10.balance - 0.03);
    assert.equal((await balance('12')).balance, before12.balance + 0.03);
  } finally {
    release();
    events.stop();
    await shardSql.end();
  }
});
