import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import postgres from 'postgres';
import { loadConfig } from '../../src/kernel/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { gophermartSettings } from '../../src/gophermart/config.js';
import { startGophermart, type GophermartRunning } from '../../src/gophermart/main.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { createPgCluster, type PgCluster, type StopMode } from '../support/pg-cluster.js';
import { msUntil } from '../support/outage.js';

// A read model must not hide an outage: with PostgreSQL gone, reads answer 503 as they do
// without it, even for a user whose balance is held in memory.
let cluster: PgCluster;
let gm: GophermartRunning;
let dbUrl: string;

before(async () => {
  cluster = await createPgCluster();
  await cluster.start();
  const url = await cluster.createDatabase('readmodel_outage');
  dbUrl = url;
  const result = loadConfig({ name: 'gophermart', summary: '' }, gophermartSettings, [], {
    RUN_ADDRESS: '127.0.0.1:0',
    DATABASE_URI: url,
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    POLL_CONCURRENCY: '0',
    JWT_SECRET: 'read-model-outage-secret-0123456789abcdef',
    READ_CACHE_TTL: '10m',
  });
  if (result.kind !== 'config') throw new Error('unexpected help');
  gm = await startGophermart(result.config, { logger: createLogger('gophermart', 'silent') });
});

after(async () => {
  await gm?.stop();
  await cluster?.destroy();
});

for (const mode of ['fast', 'immediate'] as StopMode[]) {
  test(`PostgreSQL stopped (${mode}): a balance held in memory is not served; reads answer 503, then 200 when it is back`, async (t) => {
    await msUntil('read model active', 20_000, async () => gm.readModel?.active === true);
    const token = await signUp(gm.url, uniqueLogin(`outage-${mode}`), 'outage-password');
    assert.equal((await call(gm.url, 'GET', '/api/user/balance', { token })).status, 200);
    assert.ok((gm.readModel?.size ?? 0) > 0, 'the balance is held in memory');
    // the test cluster runs with synchronous_commit off: without this an immediate stop can lose
    // the registration just made, and the user with it
    const admin = postgres(dbUrl, { max: 1, onnotice: () => undefined });
    await admin`checkpoint`;
    await admin.end();
    await cluster.stop(mode);
    const ms = await msUntil('503 on the balance read', 5000, async () => (await call(gm.url, 'GET', '/api/user/balance', { token })).status === 503);
    t.diagnostic(`503 after ${Math.round(ms)} ms`);
    assert.equal(gm.readModel?.active, false, 'the read model dropped itself');
    assert.equal(gm.readModel?.size, 0);
    assert.equal((await call(gm.url, 'GET', '/api/user/orders', { token })).status, 503);
    await cluster.start();
    const seen = new Set<string>();
    await msUntil('200 again', 20_000, async () => {
      const r = await call(gm.url, 'GET', '/api/user/balance', { token });
      seen.add(`${r.status} ${r.text}`);
      return r.status === 200;
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}; answers seen: ${[...seen].join(' | ')}`);
    });
    await msUntil('read model active again', 20_000, async () => gm.readModel?.active === true);
  });
}
