import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import type { HistoryEntry } from '../../src/ledger/orchestrator/contract.js';
import { call, signUp } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { freePort, startBin, type ServiceProcess } from '../support/process.js';
import { assertShardsMatchLog, LOGGED_TRANSACTIONS_SQL, type LoggedTransaction } from '../support/ledger-expectations.js';

/**
 * Jepsen-style bank test: 3 shard processes and 3 orchestrator instances on one ledger database,
 * all on real PostgreSQL; 30 funded wallets; thousands of random concurrent transfers from
 * clients spread over the instances while shards and orchestrators are SIGKILLed and restarted
 * at random moments, and one orchestrator is killed for good near the end. Every transfer
 * carries an Idempotency-Key and is retried on another instance when its answer is lost.
 * Afterwards every transaction is final, money is neither created nor lost, no retry paid
 * twice, receivers see only successful incoming transfers, and histories are in initiated_at
 * order. Replay a failure with LEDGER_BANK_SEED=<seed printed below>.
 */
const SEED = Number(process.env.LEDGER_BANK_SEED ?? Math.floor(Math.random() * 2 ** 31));
const TRANSFERS = Number(process.env.LEDGER_BANK_TRANSFERS ?? 3_000);
const CHAOS_MS = Number(process.env.LEDGER_BANK_CHAOS_MS ?? 25_000);
const WALLETS = 30;
/** Accepted transfers that make the run telling; below it the chaos goes on for longer. */
const ENOUGH = 400;
const SHARDS = 3;
const ORCHESTRATORS = 3;
/** The orchestrator killed for good once this share of the chaos time has passed. */
const FOR_GOOD = ORCHESTRATORS - 1;
const FOR_GOOD_AFTER = 0.7;
const SHARD_TOKEN = 'bank-shard-token';
const ADMIN_TOKEN = 'bank-admin-token';
const LEASE = '1s';
const RECOVERY = '300ms';

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
const orchestratorPorts: number[] = [];
const shards: Array<ServiceProcess | null> = [];
const orchestrators: Array<ServiceProcess | null> = [];

function shardEnv(i: number): Record<string, string> {
  return { RUN_ADDRESS: `127.0.0.1:${shardPorts[i]}`, DATABASE_URI: dbs[i]?.url ?? '', SHARD_TOKEN, DATABASE_POOL_SIZE: '4', LOG_LEVEL: 'error' };
}
function orchestratorEnv(i: number): Record<string, string> {
  const env: Record<string, string> = {
    RUN_ADDRESS: `127.0.0.1:${orchestratorPorts[i]}`,
    DATABASE_URI: ledgerDb.url,
    SHARD_TOKEN,
    ADMIN_TOKEN,
    JWT_SECRET: 'bank-jwt-secret',
    CONFIRMATION_LIMIT: '1s',
    RECOVERY_INTERVAL: RECOVERY,
    LEASE_DURATION: LEASE,
    DATABASE_POOL_SIZE: '4',
    LOG_LEVEL: 'error',
  };
  shardPorts.forEach((p, j) => {
    env[`SHARD_ADDRESS_${j + 1}`] = `127.0.0.1:${p}`;
  });
  return env;
}
const orchestratorUrl = (i: number) => `http://127.0.0.1:${orchestratorPorts[i]}`;

before(async () => {
  console.log(`bank test seed ${SEED} (replay with LEDGER_BANK_SEED=${SEED})`);
  dbs = await Promise.all(Array.from({ length: SHARDS }, () => freshDatabase('ledger_bank_shard')));
  ledgerDb = await freshDatabase('ledger_bank');
  for (let i = 0; i < SHARDS; i++) shardPorts.push(await freePort());
  for (let i = 0; i < ORCHESTRATORS; i++) orchestratorPorts.push(await freePort());
  await Promise.all(
    Array.from({ length: SHARDS }, async (_, i) => {
      shards[i] = await startBin('shard', shardEnv(i));
    }),
  );
  // one first, so the migrations and the stored secrets are created once
  orchestrators[0] = await startBin('orchestrator', orchestratorEnv(0));
  for (let i = 1; i < ORCHESTRATORS; i++) orchestrators[i] = await startBin('orchestrator', orchestratorEnv(i));
});

after(async () => {
  for (const p of [...orchestrators, ...shards]) await p?.stop('SIGKILL');
  await Promise.all([...dbs, ledgerDb].filter(Boolean).map((d) => d.drop()));
});

test('bank: money is neither created nor lost, retries never pay twice, whatever is killed', { timeout: 180_000 }, async () => {
  const token = await signUp(orchestratorUrl(0), 'bank-owner', 'bank-owner-password', '/auth/register');
  const wallets = Array.from({ length: WALLETS }, (_, i) => String(1_000 + i * 7));
  for (const [n, id] of wallets.entries())
    assert.equal((await call(orchestratorUrl(n % ORCHESTRATORS), 'POST', '/api/user/create_wallet', { token, body: { wallet_id: id } })).status, 202);
  for (const id of wallets) {
    const r = await call(orchestratorUrl(0), 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: id, amount: 1000 } });
    assert.equal(r.status, 202);
  }

  // chaos: a killer kills and restarts processes while clients send transfers
  let stop = false;
  let kills = 0;
  let killedForGood = false;
  let sent = 0;
  const started = Date.now();
  const killForGood = async () => {
    killedForGood = true;
    await orchestrators[FOR_GOOD]?.stop('SIGKILL');
    orchestrators[FOR_GOOD] = null;
    kills++;
  };
  const killer = (async () => {
    await sleep(500);
    while (!stop) {
      if (!killedForGood && (Date.now() - started > CHAOS_MS * FOR_GOOD_AFTER || sent > TRANSFERS * FOR_GOOD_AFTER)) {
        await killForGood();
        continue;
      }
      // every other kill is an orchestrator's (never the last one alive), the rest a random shard's
      if (kills % 2 === 1) {
        const target = Math.floor(random() * (killedForGood ? FOR_GOOD : ORCHESTRATORS));
        await orchestrators[target]?.stop('SIGKILL');
        orchestrators[target] = null;
        await sleep(100 + random() * 700);
        orchestrators[target] = await startBin('orchestrator', orchestratorEnv(target));
      } else {
        const target = Math.floor(random() * SHARDS);
        await shards[target]?.stop('SIGKILL');
        shards[target] = null;
        await sleep(100 + random() * 700);
        shards[target] = await startBin('shard', shardEnv(target));
      }
      kills++;
      await sleep(300 + random() * 1_200);
    }
  })();
  let retries = 0;
  /** Idempotency-Key → the tx_id its 202 carried (every 202 for one key must carry the same). */
  const acceptedByKey = new Map<string, string>();
  const acceptedIds = new Set<string>();
  const client = async (c: number): Promise<void> => {
    // the chaos lasts CHAOS_MS, longer (up to twice) on a machine so loaded that few got through
    const chaosOver = () => Date.now() - started > (acceptedIds.size >= ENOUGH ? CHAOS_MS : 2 * CHAOS_MS);
    while (sent < TRANSFERS && !chaosOver()) {
      const n = sent++;
      const from = pick(wallets);
      let to = pick(wallets);
      while (to === from) to = pick(wallets);
      const amount = (1 + Math.floor(random() * 30_000)) / 100;
      const extraDeposit = random() < 0.02;
      const key = `bank-${SEED}-${n}`;
      // the answer may be lost (instance killed mid-request): retry the same request, same key, elsewhere
      for (let attempt = 0; attempt < 6; attempt++) {
        const base = orchestratorUrl((c + attempt) % ORCHESTRATORS);
        try {
          const r = extraDeposit
            ? await call(base, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: to, amount }, headers: { 'idempotency-key': key } })
            : await call(base, 'POST', '/api/user/do_transaction', { token, body: { from_id: from, to_id: to, amount }, headers: { 'idempotency-key': key } });
          if (r.status === 202) {
            const txId = (r.json as { tx_id: string }).tx_id;
            const earlier = acceptedByKey.get(key);
            if (earlier !== undefined) assert.equal(txId, earlier, `key ${key} answered with two transactions`);
            acceptedByKey.set(key, txId);
            acceptedIds.add(txId);
            break;
          }
          if (r.status < 500) assert.fail(`unexpected ${r.status} ${r.text}`);
        } catch (err) {
          if (err instanceof assert.AssertionError) throw err;
          // instance down: connection refused or reset
        }
        retries++;
        await sleep(50);
      }
    }
  };
  await Promise.all(Array.from({ length: 16 }, (_, c) => client(c)));
  stop = true;
  await killer;
  if (!killedForGood) await killForGood(); // the clients were quicker than the killer: still near the end
  console.log(`bank: sent ${sent}, accepted ${acceptedIds.size}, retries ${retries}, kills ${kills}, ${Date.now() - started} ms`);
  assert.ok(acceptedIds.size >= 100, `too few transfers accepted (${acceptedIds.size})`);

  // every process but the one killed for good is up again; recovery must finish everything
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
    const log = await sql.unsafe<LoggedTransaction[]>(LOGGED_TRANSACTIONS_SQL);
    const statuses: Record<string, number> = {};
    for (const t of log) statuses[t.status] = (statuses[t.status] ?? 0) + 1;
    console.log('bank: final statuses', statuses);
    assert.ok((statuses.SUCCESSFUL ?? 0) >= 50, 'too few transfers succeeded');
    // every accepted transaction was logged (and is final, see above); no key logged two
    const status = new Map(log.map((t) => [t.tx_id, t.status]));
    for (const id of acceptedIds) assert.ok(status.has(id), `accepted ${id} is not in the log`);
    const keyed = await sql.unsafe<Array<{ key: string; tx_id: string }>>(`select key, tx_id from ledger.idempotency_keys`);
    for (const k of keyed) {
      const answered = acceptedByKey.get(k.key);
      if (answered !== undefined) assert.equal(k.tx_id, answered, `key ${k.key} logged another transaction than it answered`);
    }
    assert.equal(new Set(keyed.map((k) => k.tx_id)).size, keyed.length);
    const logged = log.length - WALLETS; // the initial deposits carry no key
    assert.equal(keyed.length, logged, 'a transaction was logged without its key (a retry paid twice)');

    // the shards against the log alone: each SUCCESSFUL transaction applied exactly once
    await assertShardsMatchLog(shardSql, log, wallets);

    // histories, through the API: the sender's lists all it sent; the receiver's only SUCCESSFUL
    // incoming transfers; every entry in initiated_at order
    for (const [n, id] of wallets.entries()) {
      const r = await call(orchestratorUrl(n % FOR_GOOD), 'GET', `/api/user/transactions/${id}`, { token });
      assert.equal(r.status, 200, r.text);
      const entries = r.json as HistoryEntry[];
      const incoming = entries.filter((e) => e.kind === 'transfer' && e.amount.startsWith('+'));
      for (const e of incoming) assert.equal(e.status, 'SUCCESSFUL', `wallet ${id} shows an incoming ${e.status} transfer`);
      const sentByIt = log.filter((t) => t.from_wallet === id).length;
      assert.equal(entries.filter((e) => e.amount.startsWith('-')).length, sentByIt, `wallet ${id}: not every sent transfer listed`);
      const received = log.filter((t) => t.to_wallet === id && (t.kind === 'deposit' || t.status === 'SUCCESSFUL')).length;
      assert.equal(entries.filter((e) => e.amount.startsWith('+')).length, received, `wallet ${id}: incoming entries differ`);
      for (const e of entries) if (e.kind === 'transfer') assert.match(e.counterparty ?? '', /^\d+$/);
      const times = entries.map((e) => Date.parse(e.initiated_at));
      for (let i = 1; i < times.length; i++) assert.ok((times[i] as number) >= (times[i - 1] as number), `wallet ${id}: history out of initiated_at order`);
    }
  } finally {
    await sql.end();
    await Promise.all(shardSql.map((s) => s.end()));
  }
});
