import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getOrder, orderNumber, postOrder, postRule, waitFinal } from '../support/accrual.js';
import { call } from '../support/http.js';
import { openRaw, type RawConnection } from '../support/raw-socket.js';
import type { ServiceProcess } from '../support/process.js';
import { servicesOnFreshDatabase } from '../support/services.js';

// Rate limit and the fault knobs, each on its own instance over one PostgreSQL database.
const services = servicesOnFreshDatabase('acc_limits', { PROCESSING_DELAY: '0' });
const accrual = (env: Record<string, string>): Promise<ServiceProcess> => services.start('accrual', env);

test('RATE_LIMIT: the N+1st GET in the window is 429 text/plain with Retry-After and the exact body', { timeout: 20_000 }, async () => {
  const svc = await accrual({ RATE_LIMIT: '3' });
  const known = orderNumber();
  assert.equal((await postOrder(svc.url, known, [])).status, 202);
  // three reads pass, whoever asks and whatever the number
  assert.equal((await getOrder(svc.url, known)).status, 200);
  assert.equal((await getOrder(svc.url, orderNumber())).status, 204);
  assert.equal((await call(svc.url, 'GET', '/api/orders/abc')).status, 204);
  for (const path of [`/api/orders/${known}`, `/api/orders/${orderNumber()}`, '/api/orders/abc']) {
    const r = await call(svc.url, 'GET', path);
    assert.equal(r.status, 429);
    assert.equal(r.headers.get('content-type'), 'text/plain');
    assert.equal(r.text, 'No more than 3 requests per minute allowed');
    const retryAfter = r.headers.get('retry-after') ?? '';
    assert.match(retryAfter, /^\d+$/);
    assert.equal(retryAfter, '60');
  }
  // only order reads are limited
  assert.equal((await postOrder(svc.url, orderNumber(), [])).status, 202);
  assert.equal((await postRule(svc.url, `Limit-${process.pid}`, 1, 'pt')).status, 200);
  assert.equal((await call(svc.url, 'GET', '/healthz')).status, 200);
  assert.equal(await svc.stop('SIGTERM'), 0);
});

/** Resolves once `raw` has received `count` refusals of the rate limit (rejects after 5 s). */
function refusals(raw: RawConnection, count: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const deadline = setTimeout(() => reject(new Error(`expected ${count} refusals, got ${raw.received()}`)), 5_000);
    const check = (): void => {
      if ((raw.received().match(/HTTP\/1\.1 429 /g) ?? []).length < count) return;
      clearTimeout(deadline);
      raw.socket.off('data', check);
      resolve(raw.received());
    };
    raw.socket.on('data', check);
    check();
  });
}

test('a 429 keeps the connection open: the requests behind it on that connection are answered too', { timeout: 20_000 }, async () => {
  const svc = await accrual({ RATE_LIMIT: '1' });
  const raw = await openRaw(svc.url);
  const read = `GET /api/orders/${orderNumber()} HTTP/1.1\r\nHost: accrual\r\n\r\n`;
  // sent together (pipelined): one passes, the three after it are over the limit
  raw.socket.write(read.repeat(4));
  const answers = await refusals(raw, 3);
  assert.equal((answers.match(/HTTP\/1\.1 204 /g) ?? []).length, 1, answers);
  assert.doesNotMatch(answers, /^connection: close/im, 'no answer closes the connection');
  // and the connection takes a further request
  raw.socket.write(read);
  await refusals(raw, 4);
  assert.equal(raw.socket.destroyed, false);
  raw.socket.destroy();
  assert.equal(await svc.stop('SIGTERM'), 0);
});

test('RATE_LIMIT=0 turns the limit off', { timeout: 20_000 }, async () => {
  const svc = await accrual({ RATE_LIMIT: '0' });
  const statuses = await Promise.all(Array.from({ length: 150 }, () => getOrder(svc.url, '12345678903').then((r) => r.status)));
  assert.ok(
    statuses.every((s) => s === 204 || s === 200),
    `statuses ${[...new Set(statuses)].join(',')}`,
  );
  assert.equal(await svc.stop('SIGTERM'), 0);
});

test('INVALID_SHARE=1: every order comes out INVALID without accrual, whatever its goods', { timeout: 20_000 }, async () => {
  const svc = await accrual({ INVALID_SHARE: '1', RATE_LIMIT: '0' });
  assert.equal((await postRule(svc.url, 'Always', 50, '%')).status, 200);
  for (let i = 0; i < 5; i++) {
    const n = orderNumber();
    assert.equal((await postOrder(svc.url, n, [{ description: 'Always', price: 100 }])).status, 202);
    assert.deepEqual(await waitFinal(svc.url, n), { order: n, status: 'INVALID' });
  }
  assert.equal(await svc.stop('SIGTERM'), 0);
});

test('ERROR_SHARE=1: every order read is 500 JSON; writes still work', { timeout: 20_000 }, async () => {
  const svc = await accrual({ ERROR_SHARE: '1', RATE_LIMIT: '0' });
  const n = orderNumber();
  assert.equal((await postOrder(svc.url, n, [])).status, 202);
  for (const path of [`/api/orders/${n}`, `/api/orders/${orderNumber()}`]) {
    const r = await call(svc.url, 'GET', path);
    assert.equal(r.status, 500);
    assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
    assert.equal(typeof (r.json as { error?: unknown }).error, 'string');
  }
  assert.equal(await svc.stop('SIGTERM'), 0);
});

test('bad knob values are refused at start-up with exit code 2', { timeout: 20_000 }, async () => {
  const envs: Array<Record<string, string>> = [{ RATE_LIMIT: '-1' }, { INVALID_SHARE: '1.5' }, { ERROR_SHARE: 'x' }, { PROCESSING_DELAY: 'soon' }];
  for (const env of envs) {
    await assert.rejects(accrual(env), /exited with 2/, JSON.stringify(env));
  }
});
