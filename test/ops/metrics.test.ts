import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { loadConfig } from '../../src/kernel/config.js';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { stackSettings, startStack } from '../../src/stack.js';
import { eventually } from '../support/wait.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';

// Every service in this process on one fresh PostgreSQL database, on loopback ports the OS picks.
const ADMIN = 'metrics-test-admin-token';
let db: FreshDatabase;
let stack: Awaited<ReturnType<typeof startStack>>;
let urls: Record<string, string>;

/** Samples of a Prometheus text exposition: `name{labels}` → value. */
async function scrape(url: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/metrics`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  const samples = new Map<string, number>();
  for (const line of (await res.text()).split('\n')) {
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})? (\S+)$/.exec(line);
    if (m?.[1] && m[3])
      samples.set(
        `${m[1]}${(m[2] ?? '')
          .replace(/,?service="[^"]*"/, '')
          .replace('{,', '{')
          .replace('{}', '')}`,
        Number(m[3]),
      );
  }
  return samples;
}

/** Value of the first sample whose name and labels contain every given fragment. */
function sample(samples: Map<string, number>, name: string, ...labels: string[]): number | undefined {
  for (const [key, value] of samples) {
    if ((key === name || key.startsWith(`${name}{`)) && labels.every((l) => key.includes(l))) return value;
  }
  return undefined;
}

before(async () => {
  db = await freshDatabase('ops_metrics');
  const result = loadConfig({ name: 'stack', summary: '' }, stackSettings, [], {
    HOST: '127.0.0.1',
    GOPHERMART_PORT: '0',
    ACCRUAL_PORT: '0',
    ORCHESTRATOR_PORT: '0',
    SHARD_PORTS: '0,0',
    DATABASE_URI: db.url,
    ADMIN_TOKEN: ADMIN,
    SHARD_TOKEN: 'metrics-test-shard-token',
    PROCESSING_DELAY: '0',
    LOG_LEVEL: 'silent',
  });
  if (result.kind !== 'config') throw new Error('unexpected help');
  stack = await startStack(result.config);
  urls = stack.urls;
});

after(async () => {
  await stack?.stop();
  await db?.drop();
});

test('every service exposes request counts and latency by route and status, and database pool usage', async () => {
  for (const [name, url] of Object.entries(urls)) {
    assert.equal((await call(url, 'GET', '/readyz')).status, 200);
    const s = await scrape(url);
    assert.ok((sample(s, 'http_requests_total', 'route="/readyz"', 'status="200"') ?? 0) >= 1, `${name}: http_requests_total`);
    assert.ok((sample(s, 'http_request_duration_seconds_count', 'route="/readyz"') ?? 0) >= 1, `${name}: latency histogram`);
    assert.equal(sample(s, 'db_pool_size'), 10, `${name}: db_pool_size`);
    assert.notEqual(sample(s, 'db_pool_in_use'), undefined, `${name}: db_pool_in_use`);
    assert.equal(sample(s, 'db_pool_waiting'), 0, `${name}: nothing waits when idle`);
    // shards touch their database only when asked to (see the ledger test); the others poll or sweep
    if (!name.startsWith('shard')) assert.ok((sample(s, 'db_operations_total', 'kind="query"', 'result="ok"') ?? 0) >= 1, `${name}: db_operations_total`);
    assert.ok((sample(s, 'process_cpu_seconds_total') ?? -1) >= 0, `${name}: process metrics`);
  }
});

test('loyalty: orders by status, poller requests and credits after an order is credited', async () => {
  const match = `Metric${process.pid}`;
  const number = withLuhnCheckDigit(`77${Date.now()}`);
  assert.equal((await call(urls.accrual!, 'POST', '/api/goods', { body: { match, reward: 10, reward_type: '%' } })).status, 200);
  assert.equal((await call(urls.accrual!, 'POST', '/api/orders', { body: { order: number, goods: [{ description: `a ${match}`, price: 500 }] } })).status, 202);
  const token = await signUp(urls.gophermart!, uniqueLogin('metrics'));
  assert.equal((await call(urls.gophermart!, 'POST', '/api/user/orders', { token, body: number, headers: { 'content-type': 'text/plain' } })).status, 202);
  const s = await eventually(
    'the credit in the metrics',
    async () => {
      const now = await scrape(urls.gophermart!);
      return (sample(now, 'gophermart_accrual_credits_total') ?? 0) >= 1 ? now : undefined;
    },
    15_000,
    100,
  );
  assert.equal(sample(s, 'gophermart_orders', 'status="PROCESSED"'), 1);
  assert.ok((sample(s, 'gophermart_accrual_requests_total', 'outcome="processed"') ?? 0) >= 1);
  assert.equal(sample(s, 'gophermart_accrual_credited_points_total'), 50);
  assert.notEqual(sample(s, 'gophermart_accrual_pause_seconds'), undefined, 'the 429 pause gauge');
});

test('ledger: transactions by final status, phase latencies, shard operations by kind and result', async () => {
  const token = await signUp(urls.orchestrator!, uniqueLogin('metrics'), 'secret-pass', '/auth/register');
  // ids 10 and 11 live on different shards of two (id % 2)
  for (const id of ['10', '11'])
    assert.equal((await call(urls.orchestrator!, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  assert.equal((await call(urls.orchestrator!, 'POST', '/api/admin/deposit', { token: ADMIN, body: { wallet_id: '10', amount: '5.00' } })).status, 202);
  const deposited = await eventually('the deposit', async () => {
    const b = (await call(urls.orchestrator!, 'GET', '/api/user/balance/10', { token })).json as { balance?: number } | undefined;
    return b?.balance === 5 ? b : undefined;
  });
  assert.equal(deposited.balance, 5);
  for (const amount of ['2.00', '9.00'])
    assert.equal((await call(urls.orchestrator!, 'POST', '/api/user/do_transaction', { token, body: { from_id: '10', to_id: '11', amount } })).status, 202);
  const s = await eventually('both transfers final', async () => {
    const now = await scrape(urls.orchestrator!);
    return (sample(now, 'ledger_transactions_finished_total', 'status="SUCCESSFUL"') ?? 0) >= 2 &&
      (sample(now, 'ledger_transactions_finished_total', 'status="INVALID"') ?? 0) >= 1
      ? now
      : undefined;
  });
  assert.equal(sample(s, 'ledger_transactions_finished_total', 'status="SUCCESSFUL"'), 2, 'the deposit and the 2.00 transfer');
  assert.equal(sample(s, 'ledger_transactions_finished_total', 'status="INVALID"'), 1, 'the 9.00 transfer: insufficient funds');
  assert.equal(sample(s, 'ledger_phase_duration_seconds_count', 'phase="reserve"'), 4, 'two reserves per cross-shard transfer');
  assert.equal(sample(s, 'ledger_phase_duration_seconds_count', 'phase="decision"'), 2);
  assert.equal(sample(s, 'ledger_phase_duration_seconds_count', 'phase="confirm"'), 2, 'the commit, on both shards');
  assert.equal(sample(s, 'ledger_phase_duration_seconds_count', 'phase="cancel"'), 2, 'the abort, on both shards');
  assert.equal(sample(s, 'ledger_phase_duration_seconds_count', 'phase="local"'), 1, 'the deposit');
  assert.equal(sample(s, 'ledger_transaction_duration_seconds_count', 'status="SUCCESSFUL"'), 2);

  const shard0 = await scrape(urls.shard_0!);
  const shard1 = await scrape(urls.shard_1!);
  assert.equal(sample(shard0, 'shard_operations_total', 'kind="deposit"', 'result="confirmed"'), 1);
  assert.equal(sample(shard0, 'shard_operations_total', 'kind="reserve_debit"', 'result="reserved"'), 1);
  assert.equal(sample(shard0, 'shard_operations_total', 'kind="reserve_debit"', 'result="insufficient_funds"'), 1);
  assert.equal(sample(shard1, 'shard_operations_total', 'kind="reserve_credit"', 'result="reserved"'), 2);
  assert.equal(sample(shard1, 'shard_operations_total', 'kind="confirm"', 'result="confirmed"'), 1);
  assert.equal(sample(shard1, 'shard_operations_total', 'kind="create_wallet"', 'result="created"'), 1);
  assert.ok((sample(shard1, 'shard_operation_duration_seconds_count', 'kind="confirm"') ?? 0) >= 1);
  // shard operations are single function calls (one statement each) since the shard's functions landed
  assert.ok((sample(shard1, 'db_operations_total', 'kind="query"', 'result="ok"') ?? 0) >= 3);
});
