import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT, freePort, startBin } from '../support/process.js';

let db: FreshDatabase;
before(async () => {
  db = await freshDatabase('gm_life');
});
after(async () => {
  await db?.drop();
});

test('--help lists every setting and exits 0; a bad setting exits 2 with a clear message', () => {
  const help = spawnSync(resolve(ROOT, 'bin/gophermart'), ['--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  for (const name of ['RUN_ADDRESS', 'DATABASE_URI', 'ACCRUAL_SYSTEM_ADDRESS', 'JWT_SECRET', 'CONFIG', '-a,', '-d,', '-r,', '-k,', '-c,'])
    assert.match(help.stdout, new RegExp(name));
  const bad = spawnSync(resolve(ROOT, 'bin/gophermart'), [], { encoding: 'utf8', env: { PATH: process.env.PATH, TOKEN_TTL: 'forever' } });
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /TOKEN_TTL/);
  const level = spawnSync(resolve(ROOT, 'bin/gophermart'), [], { encoding: 'utf8', env: { PATH: process.env.PATH, LOG_LEVEL: 'bogus' } });
  assert.equal(level.status, 2);
  assert.match(level.stderr, /LOG_LEVEL must be one of/);
  assert.doesNotMatch(level.stderr, /\n\s+at /, 'no stack trace');
});

test('starts twice on a migrated database; the generated secret survives restarts; SIGTERM and SIGINT exit 0', async () => {
  const first = await startBin('gophermart', { DATABASE_URI: db.url });
  const login = uniqueLogin();
  const token = await signUp(first.url, login);
  assert.equal(await first.stop('SIGTERM'), 0);
  const second = await startBin('gophermart', { DATABASE_URI: db.url });
  assert.equal((await call(second.url, 'GET', '/api/user/balance', { token })).status, 200);
  const started = Date.now();
  assert.equal(await second.stop('SIGINT'), 0);
  assert.ok(Date.now() - started < 5000);
});

test('two instances migrating one fresh database at the same time both start', async () => {
  const shared = await freshDatabase('gm_life2');
  try {
    const [a, b] = await Promise.all([startBin('gophermart', { DATABASE_URI: shared.url }), startBin('gophermart', { DATABASE_URI: shared.url })]);
    const token = await signUp(a.url, uniqueLogin());
    assert.equal((await call(b.url, 'GET', '/api/user/balance', { token })).status, 200, 'instances agree on the stored secret');
    assert.deepEqual(await Promise.all([a.stop(), b.stop()]), [0, 0]);
  } finally {
    await shared.drop();
  }
});

test('environment wins over flags', async () => {
  const envPort = await freePort();
  const flagPort = await freePort();
  const svc = await startBin('gophermart', { DATABASE_URI: db.url, RUN_ADDRESS: `127.0.0.1:${envPort}` }, ['-a', `127.0.0.1:${flagPort}`]);
  assert.equal(svc.port, envPort);
  assert.equal((await call(`http://127.0.0.1:${envPort}`, 'GET', '/healthz')).status, 200);
  await assert.rejects(fetch(`http://127.0.0.1:${flagPort}/healthz`));
  assert.equal(await svc.stop(), 0);
});

test('flags work when the environment is silent: -d and -a', async () => {
  const port = await freePort();
  const svc = await startBin('gophermart', { RUN_ADDRESS: `127.0.0.1:${port}` }, ['-d', db.url]);
  const r = await call(svc.url, 'GET', '/readyz');
  assert.equal(r.status, 200);
  assert.equal(await svc.stop(), 0);
});

test('embedded database in a data directory: data persists across restarts; a second process is refused', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gm-embedded-'));
  try {
    const a = await startBin('gophermart', { DATA_DIR: dir });
    const login = uniqueLogin();
    let clash: ReturnType<typeof spawnSync>;
    try {
      await signUp(a.url, login, 'pw-lifecycle');
      clash = spawnSync(resolve(ROOT, 'bin/gophermart'), [], {
        encoding: 'utf8',
        timeout: 20_000,
        env: { PATH: process.env.PATH, DATA_DIR: dir, RUN_ADDRESS: `127.0.0.1:${await freePort()}` },
      });
    } finally {
      assert.equal(await a.stop(), 0);
    }
    // a start-up failure is one line and exit 2, like every other refused start
    assert.equal(clash.status, 2);
    assert.match(`${clash.stdout}${clash.stderr}`, /in use by process/);
    const b = await startBin('gophermart', { DATA_DIR: dir });
    assert.equal((await call(b.url, 'POST', '/api/user/login', { body: { login, password: 'pw-lifecycle' } })).status, 200);
    assert.equal(await b.stop(), 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
