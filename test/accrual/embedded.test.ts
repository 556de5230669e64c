import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { getOrder, orderNumber, postOrder, postRule, waitFinal } from '../support/accrual.js';
import { call } from '../support/http.js';
import { startBin, type ServiceProcess } from '../support/process.js';

// Without DATABASE_URI the service runs on the embedded database (PGlite) in its data directory.
// One PGlite process at a time in this file (each costs ~300 MB).
const dataDir = mkdtempSync(join(tmpdir(), 'accrual-embedded-'));
let svc: ServiceProcess | undefined;

after(async () => {
  await svc?.stop('SIGKILL');
  rmSync(dataDir, { recursive: true, force: true });
});

test('embedded database: every endpoint, then a restart keeps rules and orders', { timeout: 240_000 }, async () => {
  // the embedded database can take half a minute to start on a loaded machine
  svc = await startBin('accrual', { DATA_DIR: dataDir, PROCESSING_DELAY: '0', RATE_LIMIT: '100' }, [], 90_000);
  const base = svc.url;
  assert.equal((await postRule(base, 'Pringles', 10, '%')).status, 200);
  assert.equal((await postRule(base, 'Coca-Cola', 12.5, 'pt')).status, 200);
  assert.equal((await postRule(base, 'Coca-Cola', 1, '%')).status, 409);
  assert.equal((await postRule(base, '', 1, '%')).status, 400);
  assert.equal((await call(base, 'POST', '/api/goods', { body: '{', headers: { 'content-type': 'application/json' } })).status, 400);

  const number = orderNumber();
  const goods = [
    { description: 'Чайник Tefal', price: 7000 },
    { description: 'Чипсы Pringles бекон', price: 147.5 },
    { description: 'Напиток Coca-Cola Zero 0.5л', price: 55 },
  ];
  assert.equal((await postOrder(base, number, goods)).status, 202);
  assert.equal((await postOrder(base, number, [])).status, 409);
  assert.equal((await postOrder(base, '12345678904', goods)).status, 400);
  assert.deepEqual(await waitFinal(base, number), { order: number, status: 'PROCESSED', accrual: 27.25 });
  const empty = orderNumber();
  assert.equal((await postOrder(base, empty, [])).status, 202);
  assert.deepEqual(await waitFinal(base, empty), { order: empty, status: 'PROCESSED' });
  assert.equal((await getOrder(base, orderNumber())).status, 204);

  const t0 = Date.now();
  assert.equal(await svc.stop('SIGTERM'), 0);
  assert.ok(Date.now() - t0 < 5000, `stop took ${Date.now() - t0} ms`);

  svc = await startBin('accrual', { DATA_DIR: dataDir, PROCESSING_DELAY: '0' }, [], 90_000);
  assert.deepEqual((await getOrder(svc.url, number)).body, { order: number, status: 'PROCESSED', accrual: 27.25 });
  assert.equal((await postRule(svc.url, 'Pringles', 1, 'pt')).status, 409);
  assert.equal(await svc.stop('SIGTERM'), 0);
});
