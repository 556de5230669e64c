import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { deposit, startLedger, waitFinal, type LedgerUnderTest } from '../support/ledger.js';

// A clean stop gives the instance's unfinished transactions up (no owner). An instance just
// started takes no run-out lease over for one whole lease (lease-continuity.ts), but what has no
// owner nobody drives: it takes that at once — a rolling restart does not wait out a lease.
// Leases and sweeps of ten minutes here, so that nothing but that rule can finish the transfer.
const LONG = 600_000;
let ledger: LedgerUnderTest;
let sql: postgres.Sql;
let token: string;

before(async () => {
  ledger = await startLedger(2, { leaseMs: LONG, recoveryIntervalMs: LONG, confirmationLimitMs: 1_000 });
  sql = postgres(ledger.ledgerDb.url, { max: 1, onnotice: () => undefined });
  token = await signUp(ledger.url, uniqueLogin('release'), 'release-password', '/auth/register');
  for (const id of ['20', '21']) assert.equal((await call(ledger.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  await waitFinal(ledger.url, token, '20', await deposit(ledger.url, '20', 100));
});

after(async () => {
  await sql?.end();
  await ledger?.stop();
});

test('a transfer given up by a clean stop is finished at once by an instance started after it', async () => {
  const stopping = await ledger.addOrchestrator({ leaseMs: LONG, recoveryIntervalMs: LONG });
  await ledger.freezeShard(1);
  let txId = '';
  try {
    const r = await call(stopping.url, 'POST', '/api/user/do_transaction', { token, body: { from_id: '20', to_id: '21', amount: 5 } });
    assert.equal(r.status, 202, r.text);
    txId = (r.json as { tx_id: string }).tx_id;
    await stopping.stop();
  } finally {
    await ledger.startShardAt(1);
  }
  const [given] = await sql<{ status: string; lease_owner: string | null }[]>`select status, lease_owner from ledger.transactions where tx_id = ${txId}`;
  assert.ok(given && ['PENDING', 'PROCESSING'].includes(given.status), given?.status);
  assert.equal(given.lease_owner, null, 'a clean stop leaves its transactions without an owner');

  const fresh = await ledger.addOrchestrator({ leaseMs: LONG, recoveryIntervalMs: 100 });
  const item = await waitFinal(ledger.url, token, '20', txId, 10_000);
  assert.ok(['FAILED', 'SUCCESSFUL'].includes(item.status), item.status);
  const [taken] = await sql<{ lease_owner: string | null }[]>`select lease_owner from ledger.transactions where tx_id = ${txId}`;
  assert.equal(taken?.lease_owner, fresh.instanceId);
  const balance = (await call(ledger.url, 'GET', '/api/user/balance/20', { token })).json as { reserved: number };
  assert.equal(balance.reserved, 0);
});
