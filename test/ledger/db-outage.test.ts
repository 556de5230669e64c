import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call, signUp } from '../support/http.js';
import { assertAlive, outageRounds, Recorder } from '../support/outage.js';
import { createPgCluster, type PgCluster } from '../support/pg-cluster.js';
import { freePort, startBin, type ServiceProcess } from '../support/process.js';
import { assertShardsMatchLog, LOGGED_TRANSACTIONS_SQL, type LoggedTransaction } from '../support/ledger-expectations.js';

/**
 * bin/orchestrator and two bin/shard on one private PostgreSQL (a database each) that is
 * stopped twice under a transfer load (fast, then immediate), ≈5 s each: nothing exits, every
 * answer while it is away is the 503 within 2 s, normal answers within 5 s of its return, and
 * afterwards the bank invariants hold: every accepted transaction is final, money is neither
 * created nor lost, no balance is negative, nothing is left reserved, the shards applied
 * exactly the SUCCESSFUL transactions.
 */
const SHARD_TOKEN = 'outage-shard-token';
const ADMIN_TOKEN = 'outage-admin-token';
const WALLETS = 10;
const WORKERS = 8;

let cluster: PgCluster;
let ledgerUrl: string;
const shardUrls: string[] = [];
const services: ServiceProcess[] = [];
let orchestrator: ServiceProcess;

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  ledgerUrl = await cluster.createDatabase('ledger');
  for (let i = 0; i < 2; i++) shardUrls.push(await cluster.createDatabase(`shard${i}`));
  const shardPorts = [await freePort(), await freePort()];
  for (const [i, port] of shardPorts.entries()) {
    services.push(
      await startBin('shard', {
        RUN_ADDRESS: `127.0.0.1:${port}`,
        DATABASE_URI: shardUrls[i] as string,
        SHARD_TOKEN,
        DATABASE_POOL_SIZE: '4',
        LOG_LEVEL: 'warn',
      }),
    );
  }
  orchestrator = await startBin('orchestrator', {
    DATABASE_URI: ledgerUrl,
    SHARD_TOKEN,
    ADMIN_TOKEN,
    JWT_SECRET: 'outage-jwt-secret',
    SHARD_ADDRESS_1: `127.0.0.1:${shardPorts[0]}`,
    SHARD_ADDRESS_2: `127.0.0.1:${shardPorts[1]}`,
    CONFIRMATION_LIMIT: '2s',
    RECOVERY_INTERVAL: '300ms',
    LEASE_DURATION: '1s',
    DATABASE_POOL_SIZE: '4',
    LOG_LEVEL: 'warn',
  });
  services.push(orchestrator);
});

after(async () => {
  for (const s of services) await s.stop('SIGKILL');
  await cluster?.destroy();
});

test('ledger: PostgreSQL stopped twice under load; every accepted transaction final, money conserved', { timeout: 120_000 }, async () => {
  const token = await signUp(orchestrator.url, 'outage-owner', 'outage-owner-password', '/auth/register');
  const wallets = Array.from({ length: WALLETS }, (_, i) => String(3_000 + i * 7));
  for (const id of wallets) assert.equal((await call(orchestrator.url, 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  for (const id of wallets) {
    const r = await call(orchestrator.url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: id, amount: 1000 } });
    assert.equal(r.status, 202, r.text);
  }
  const accepted = new Set<string>();
  const recorder = new Recorder();
  let running = true;
  let n = 0;
  const send = (method: string, path: string, body?: object, headers: Record<string, string> = {}) =>
    fetch(orchestrator.url + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}), ...headers },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(10_000),
    });
  const worker = async (w: number): Promise<void> => {
    for (let i = 0; running; i++) {
      const k = n++;
      const from = wallets[(w + i) % WALLETS] as string;
      const to = wallets[(w + 3 * i + 1) % WALLETS] as string;
      let status: number;
      let body: string;
      if (i % 6 === 2) {
        ({ status } = await recorder.time('history', () => send('GET', `/api/user/transactions/${from}`)));
      } else if (i % 6 === 5) {
        // served from the wallet's shard (the wallet itself may be cached): its outage is the same 503
        ({ status } = await recorder.time('balance', () => send('GET', `/api/user/balance/${from}`)));
      } else if (from !== to) {
        ({ status, body } = await recorder.time('transfer', () =>
          send('POST', '/api/user/do_transaction', { from_id: from, to_id: to, amount: 1 + (k % 50) }, { 'idempotency-key': `outage-${k}` }),
        ));
        if (status === 202) accepted.add((JSON.parse(body) as { tx_id: string }).tx_id);
      } else continue;
      if (status === 503) await new Promise((r) => setTimeout(r, 20));
    }
  };
  const normal = async (): Promise<boolean> => {
    const res = await send('GET', `/api/user/transactions/${wallets[0]}`);
    await res.text();
    return res.status === 200;
  };
  const load = Array.from({ length: WORKERS }, (_, w) => worker(w));
  const figures = await outageRounds({
    cluster,
    services,
    normal,
    recorder,
    normalStatuses: [200, 202],
    stopLoad: async () => {
      running = false;
      await Promise.all(load);
    },
  });
  assertAlive(services);
  console.log(JSON.stringify({ service: 'ledger', figures, requests: recorder.samples.length, accepted: accepted.size }));
  assert.ok(accepted.size > 50, `too few transfers accepted (${accepted.size})`);

  const sql = postgres(ledgerUrl, { max: 1, onnotice: () => undefined });
  const shardSql = shardUrls.map((u) => postgres(u, { max: 1, onnotice: () => undefined }));
  try {
    // the coordinator and the recovery sweep finish everything by themselves
    const deadline = Date.now() + 30_000;
    for (;;) {
      const open = Number((await sql.unsafe(`select count(*) as n from ledger.transactions where status in ('PENDING', 'PROCESSING')`))[0]?.n);
      if (open === 0) break;
      assert.ok(Date.now() < deadline, `${open} transactions still unfinished after the outages`);
      await new Promise((r) => setTimeout(r, 200));
    }
    const log = await sql.unsafe<LoggedTransaction[]>(LOGGED_TRANSACTIONS_SQL);
    const status = new Map(log.map((t) => [t.tx_id, t.status]));
    for (const id of accepted) assert.ok(status.has(id), `accepted ${id} is not in the log`);
    const deposits = await assertShardsMatchLog(shardSql, log, wallets);
    assert.equal(deposits, BigInt(WALLETS * 1000 * 100), 'every deposit succeeded once');
  } finally {
    await sql.end({ timeout: 1 });
    for (const s of shardSql) await s.end({ timeout: 1 });
  }
});
