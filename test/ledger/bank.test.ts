import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { call, signUp } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { freePort, startBin, type ServiceProcess } from '../support/process.js';

/**
 * Jepsen-style bank test: 3 shard processes and the orchestrator on real PostgreSQL, 30 funded
 * wallets, thousands of random concurrent transfers while processes are SIGKILLed and
 * restarted at random moments. Afterwards every transaction is final and money is neither
 * created nor lost. Replay a failure with LEDGER_BANK_SEED=<seed printed below>.
 */
const SEED = Number(process.env.LEDGER_BANK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TRANSFERS = Number(process.env.LEDGER_BANK_TRANSFERS ?? 3_000);
const CHAOS_MS = Number(process.env.LEDGER_BANK_CHAOS_MS ?? 30_000);
const WALLETS = 30;
const SHARDS = 3;
const SHARD_TOKEN = 'bank-shard-token';
const ADMIN_TOKEN = 'bank-admin-token';

function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
const random = mulberry32(SEED);
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)] as T;
const sleep = (ms: number) => new Promise((res) => setTimeout(res, ms));

let dbs: FreshDatabase[] = [];
let ledgerDb: FreshDatabase;
const shardPorts: number[] = [];
let orchestratorPort = 0;
const shards: Array<ServiceProcess | null> = [];
let orchestrator: ServiceProcess | null = null;

function shardEnv(i: number): Record<string, string> {
  return { RUN_ADDRESS: `127.0.0.1:${shardPorts[i]}`, DATABASE_URI: dbs[i]?.url ?? '', SHARD_TOKEN, DATABASE_POOL_SIZE: '4', LOG_LEVEL: 'error' };
}
function orchestratorEnv(): Record<string, string> {
  const env: Record<string, string> = {
    RUN_ADDRESS: `127.0.0.1:${orchestratorPort}`,
    DATABASE_URI: ledgerDb.url,
    SHARD_TOKEN,
    ADMIN_TOKEN,
    JWT_SECRET: 'bank-jwt-secret',
    CONFIRMATION_LIMIT: '1s',
    RECOVERY_INTERVAL: '300ms',
    DATABASE_POOL_SIZE: '6',
    LOG_LEVEL: 'error',
  };
  shardPorts.forEach((p, i) => {
    env[`SHARD_ADDRESS_${i + 1}`] = `127.0.0.1:${p}`;
  });
  return env;
}
const orchestratorUrl = () => `http://127.0.0.1:${orchestratorPort}`;

before(async () => {
  console.log(`bank test seed ${SEED} (replay with LEDGER_BANK_SEED=${SEED})`);
  dbs = await Promise.all(Array.from({ length: SHARDS }, () => freshDatabase('ledger_bank_shard')));
  ledgerDb = await freshDatabase('ledger_bank');
  for (let i = 0; i < SHARDS; i++) shardPorts.push(await freePort());
  orchestratorPort = await freePort();
  for (let i = 0; i < SHARDS; i++) shards.push(await startBin('shard', shardEnv(i)));
  orchestrator = await startBin('orchestrator', orchestratorEnv());
});

after(async () => {
  for (const p of [orchestrator, ...shards]) await p?.stop('SIGKILL');
  await Promise.all([...dbs, ledgerDb].filter(Boolean).map((d) => d.drop()));
});

test('bank: money is neither created nor lost whatever is killed', { timeout: 90_000 }, async () => {
  const token = await signUp(orchestratorUrl(), 'bank-owner', 'pw-bank-owner', '/auth/register');
  const wallets = Array.from({ length: WALLETS }, (_, i) => String(1_000 + i * 7));
  for (const id of wallets) assert.equal((await call(orchestratorUrl(), 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  for (const id of wallets) {
    const r = await call(orchestratorUrl(), 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: id, amount: 1000 } });
    assert.equal(r.status, 202);
  }

  // chaos: a killer kills and restarts processes while clients send transfers
  let stop = false;
  let kills = 0;
  const killer = (async () => {
    await sleep(500);
    while (!stop) {
      // every other kill is the orchestrator's (index SHARDS), the rest a random shard's
      const target = kills % 2 === 1 ? SHARDS : Math.floor(random() * SHARDS);
      if (target === SHARDS) {
        await orchestrator?.stop('SIGKILL');
        orchestrator = null;
        await sleep(100 + random() * 700);
        orchestrator = await startBin('orchestrator', orchestratorEnv());
      } else {
        await shards[target]?.stop('SIGKILL');
        shards[target] = null;
        await sleep(100 + random() * 700);
        shards[target] = await startBin('shard', shardEnv(target));
      }
      kills++;
      await sleep(300 + random() * 1_200);
    }
  })();
  let sent = 0;
  let accepted = 0;
  const started = Date.now();
  const client = async (): Promise<void> => {
    while (sent < TRANSFERS && Date.now() - started < CHAOS_MS) {
      sent++;
      const from = pick(wallets);
      let to = pick(wallets);
      while (to === from) to = pick(wallets);
      const amount = (1 + Math.floor(random() * 30_000)) / 100;
      const extraDeposit = random() < 0.02;
      try {
        const r = extraDeposit
          ? await call(orchestratorUrl(), 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: to, amount } })
          : await call(orchestratorUrl(), 'POST', '/api/user/do_transaction', { token, body: { from_id: from, to_id: to, amount } });
        if (r.status === 202) accepted++;
        else if (r.status < 500) assert.fail(`unexpected ${r.status} ${r.text}`);
      } catch (err) {
        if (err instanceof assert.AssertionError) throw err;
        await sleep(50); // orchestrator down: connection refused
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, client));
  stop = true;
  await killer;
  console.log(`bank: sent ${sent}, accepted ${accepted}, kills ${kills}, ${Date.now() - started} ms`);
  assert.ok(accepted > 500, `too few transfers accepted (${accepted})`);

  // every process up again; recovery must finish everything
  const sql = postgres(ledgerDb.url, { max: 1, onnotice: () => undefined });
  const shardSql = dbs.map((d) => postgres(d.url, { max: 1, onnotice: () => undefined }));
  try {
    const deadline = Date.now() + 30_000;
    for (;;) {
      const open = Number((await sql.unsafe(`select count(*) as n from ledger.transactions where status in ('PENDING', 'PROCESSING')`))[0]?.n);
      if (open === 0) break;
      if (Date.now() > deadline) assert.fail(`${open} transactions still unfinished after recovery`);
      await sleep(200);
    }
    const log = await sql.unsafe<Array<{ tx_id: string; kind: string; from_wallet: string | null; to_wallet: string; amount: string; status: string }>>(
      'select tx_id, kind, from_wallet, to_wallet, amount::text, status from ledger.transactions',
    );
    const statuses: Record<string, number> = {};
    for (const t of log) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    console.log('bank: final statuses', statuses);
    assert.ok((statuses.SUCCESSFUL ?? 0) > 100, 'too few transfers succeeded');

    // expected balances from the log alone: each SUCCESSFUL transaction applied exactly once
    const expected = new Map<string, bigint>(wallets.map((w) => [w, 0n]));
    let deposits = 0n;
    for (const t of log) {
      if (t.status !== 'SUCCESSFUL') continue;
      const amount = BigInt(t.amount);
      if (t.kind === 'deposit') deposits += amount;
      else expected.set(t.from_wallet as string, (expected.get(t.from_wallet as string) ?? 0n) - amount);
      expected.set(t.to_wallet, (expected.get(t.to_wallet) ?? 0n) + amount);
    }
    let total = 0n;
    for (const s of shardSql) {
      const rows = await s.unsafe<Array<{ id: string; balance: string; reserved: string }>>('select id, balance::text, reserved::text from shard.wallets');
      for (const w of rows) {
        assert.ok(BigInt(w.balance) >= 0n, `wallet ${w.id} negative`);
        assert.equal(w.reserved, '0', `wallet ${w.id} still has money reserved`);
        assert.equal(BigInt(w.balance), expected.get(w.id), `wallet ${w.id}: balance differs from its SUCCESSFUL transactions`);
        total += BigInt(w.balance);
      }
      const open = await s.unsafe(`select tx_id from shard.transactions where state = 'reserved'`);
      assert.equal(open.length, 0, 'holds left open on a shard');
      // a shard applied exactly the transactions the log calls SUCCESSFUL
      const applied = await s.unsafe<Array<{ tx_id: string }>>(`select tx_id from shard.transactions where state = 'confirmed'`);
      const status = new Map(log.map((t) => [t.tx_id, t.status]));
      for (const a of applied) assert.equal(status.get(a.tx_id), 'SUCCESSFUL', `shard applied ${a.tx_id}, log says ${status.get(a.tx_id)}`);
    }
    assert.equal(total, deposits, 'sum of balances differs from sum of deposits');
  } finally {
    await sql.end();
    await Promise.all(shardSql.map((s) => s.end()));
  }
});
