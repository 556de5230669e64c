import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type IncomingHttpHeaders, request as httpRequest } from 'node:http';
import { gzipSync } from 'node:zlib';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { getOrder, orderNumber, postOrder, postRule, waitFinal } from '../support/accrual.js';
import { call } from '../support/http.js';
import { assertObservedStatusesDocumented, servedOperations } from '../support/openapi.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { startBin, type ServiceProcess } from '../support/process.js';

// Every endpoint and status code of SPEC §2, over real sockets, on real PostgreSQL.
let db: FreshDatabase;
let svc: ServiceProcess;
let base: string;

before(async () => {
  db = await freshDatabase('acc_api');
  svc = await startBin('accrual', { DATABASE_URI: db.url, PROCESSING_DELAY: '0', RATE_LIMIT: '0' });
  base = svc.url;
});

after(async () => {
  await svc?.stop('SIGKILL');
  await db?.drop();
});

test('POST /api/goods: 200 for % and pt rules, echoing the rule as JSON', async () => {
  const a = await postRule(base, 'Pringles', 10, '%');
  assert.equal(a.status, 200);
  assert.equal(a.headers.get('content-type'), 'application/json');
  assert.deepEqual(a.json, { match: 'Pringles', reward: 10, reward_type: '%' });
  const b = await postRule(base, 'Coca-Cola', 12.5, 'pt');
  assert.equal(b.status, 200);
  assert.deepEqual(b.json, { match: 'Coca-Cola', reward: 12.5, reward_type: 'pt' });
  assert.equal((await postRule(base, 'X', 5, '%')).status, 200);
});

test('POST /api/goods: 409 for a repeated match whatever its reward', async () => {
  const again = await postRule(base, 'Pringles', 99, 'pt');
  assert.equal(again.status, 409);
  assert.equal(typeof (again.json as { error?: unknown }).error, 'string');
  assert.equal((await postRule(base, 'Pringles', 10, '%')).status, 409);
  // case-sensitive: another match
  assert.equal((await postRule(base, 'pringles', 10, '%')).status, 200);
});

test('POST /api/goods: 400 for bad input, which changes nothing', async () => {
  const bad: Array<string | object> = [
    { match: '', reward: 10, reward_type: '%' },
    { match: 'Fresh1', reward: -1, reward_type: '%' },
    { match: 'Fresh1', reward: -0.01, reward_type: 'pt' },
    { match: 'Fresh1', reward: '10', reward_type: '%' },
    { match: 'Fresh1', reward: 'ten', reward_type: '%' },
    { match: 'Fresh1', reward: null, reward_type: '%' },
    { match: 'Fresh1', reward_type: '%' },
    { match: 'Fresh1', reward: 10, reward_type: 'percent' },
    { match: 'Fresh1', reward: 10, reward_type: '' },
    { match: 'Fresh1', reward: 10 },
    { reward: 10, reward_type: '%' },
    { match: 5, reward: 10, reward_type: '%' },
    { match: 'Fresh1\u0000', reward: 10, reward_type: '%' },
    { match: 'Fresh1', reward: 1e300, reward_type: 'pt' },
    [{ match: 'Fresh1', reward: 10, reward_type: '%' }],
    '{"match": "Fresh1", "reward": 10, "reward_type": "%"',
    'not json at all',
    '',
  ];
  for (const body of bad) {
    const r = await call(base, 'POST', '/api/goods', { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, `expected 400 for ${JSON.stringify(body)}, got ${r.status} ${r.text}`);
    assert.equal(r.headers.get('content-type'), 'application/json');
    assert.equal(typeof (r.json as { error?: unknown }).error, 'string');
  }
  // none of the refused requests registered "Fresh1"
  assert.equal((await postRule(base, 'Fresh1', 0.5, 'pt')).status, 200);
});

test('POST /api/orders: 202 with the order readable as REGISTERED (or later) at once', async () => {
  const number = orderNumber();
  const r = await postOrder(base, number, [{ description: 'хлеб', price: 40 }]);
  assert.equal(r.status, 202);
  assert.deepEqual(r.json, { order: number, status: 'REGISTERED' });
  const g = await getOrder(base, number);
  assert.equal(g.status, 200);
  assert.ok(['REGISTERED', 'PROCESSING', 'PROCESSED'].includes(g.body?.status ?? ''), g.reply.text);
  assert.equal(g.body?.order, number);
});

test('POST /api/orders: 409 for a repeated order whatever its goods', async () => {
  const number = orderNumber();
  assert.equal((await postOrder(base, number, [{ description: 'хлеб', price: 40 }])).status, 202);
  const again = await postOrder(base, number, [{ description: 'Чипсы Pringles', price: 100 }]);
  assert.equal(again.status, 409);
  assert.equal(typeof (again.json as { error?: unknown }).error, 'string');
  assert.equal((await postOrder(base, number, [])).status, 409);
  // the first registration's goods count: хлеб matches nothing
  const final = await waitFinal(base, number);
  assert.deepEqual(final, { order: number, status: 'PROCESSED' });
});

test('POST /api/orders: 400 for bad JSON, Luhn failures and bad goods, changing nothing', async () => {
  const number = orderNumber();
  const failsLuhn = number.slice(0, -1) + String((Number(number.at(-1)) + 1) % 10);
  const good = [{ description: 'Чипсы Pringles', price: 100 }];
  const bad: Array<string | object> = [
    { order: failsLuhn, goods: good },
    { order: `${number}x`, goods: good },
    { order: ` ${number}`, goods: good },
    { order: '', goods: good },
    { order: Number(number.slice(0, 15)), goods: good },
    { goods: good },
    { order: number },
    { order: number, goods: 'Pringles' },
    { order: number, goods: [{ price: 100 }] },
    { order: number, goods: [{ description: 5, price: 100 }] },
    { order: number, goods: [{ description: 'Pringles', price: -1 }] },
    { order: number, goods: [{ description: 'Pringles', price: '100' }] },
    { order: number, goods: [{ description: 'Pringles' }] },
    { order: number, goods: [{ description: 'Pringles', price: null }] },
    { order: number, goods: [{ description: 'Pringles', price: 1e300 }] },
    { order: number, goods: [{ description: 'Pri\u0000ngles', price: 1 }] },
    { order: number, goods: [...good, null] },
    { order: `${'1'.repeat(1001)}`, goods: good },
    `{"order": "${number}", "goods": [`,
    'nope',
    '',
  ];
  for (const body of bad) {
    const r = await call(base, 'POST', '/api/orders', { body, headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, `expected 400 for ${JSON.stringify(body).slice(0, 120)}, got ${r.status} ${r.text}`);
    assert.equal(typeof (r.json as { error?: unknown }).error, 'string');
  }
  assert.equal((await getOrder(base, number)).status, 204, 'refused orders are not registered');
  assert.equal((await getOrder(base, failsLuhn)).status, 204);
  assert.equal((await postOrder(base, number, good)).status, 202);
});

test('GET /api/orders/{number}: 204 for unknown and non-digit numbers', async () => {
  // longer than any order can be (1000 digits): simply not registered, as for the router too
  for (const path of [orderNumber(), '12345678903', 'abc', '12x', '%20', '-1', '1.5', '1'.repeat(1001), '1'.repeat(5000)]) {
    const r = await call(base, 'GET', `/api/orders/${path}`);
    assert.equal(r.status, 204, `GET ${path}: ${r.status}`);
    assert.equal(r.text, '');
    assert.equal(r.headers.get('content-type'), 'application/json', 'a 204 carries the JSON content type, as everywhere');
  }
});

test('SPEC worked example 1 end to end: 27.25 with JSON content type', async () => {
  const number = orderNumber();
  const r = await postOrder(base, number, [
    { description: 'Чайник Tefal', price: 7000 },
    { description: 'Чипсы Pringles бекон', price: 147.5 },
    { description: 'Напиток Coca-Cola Zero 0.5л', price: 55 },
  ]);
  assert.equal(r.status, 202);
  assert.deepEqual(await waitFinal(base, number), { order: number, status: 'PROCESSED', accrual: 27.25 });
  const g = await getOrder(base, number);
  assert.equal(g.reply.headers.get('content-type'), 'application/json');
  assert.equal(g.reply.text, `{"order":"${number}","status":"PROCESSED","accrual":27.25}`);
});

test('SPEC worked example 2 end to end: 729.98', async () => {
  const number = orderNumber();
  await postOrder(base, number, [
    { description: 'Стиральная машинка LG', price: 47399.99 },
    { description: 'Телевизор X', price: 14599.5 },
  ]);
  assert.deepEqual(await waitFinal(base, number), { order: number, status: 'PROCESSED', accrual: 729.98 });
});

test('prices and rewards are read as written, past the digits a double keeps: the half-up rounding turns on them', async () => {
  const json = { 'content-type': 'application/json' };
  // 0.00499999999999999999 and 0.005 are the same double; only the first is below a half hundredth
  for (const [match, reward, type] of [
    ['Exact100', '100', '%'],
    ['ExactHalf', '0.5', '%'],
    ['ExactPt', '0.00499999999999999999999', 'pt'],
  ] as const) {
    const r = await call(base, 'POST', '/api/goods', { body: `{"match":"${match}","reward":${reward},"reward_type":"${type}"}`, headers: json });
    assert.equal(r.status, 200, r.text);
  }
  const cases: Array<[string, string, number | undefined]> = [
    ['Exact100', '0.00499999999999999999', undefined],
    ['Exact100', '0.0050000000000000000001', 0.01],
    ['ExactHalf', '0.99999999999999999999', undefined],
    ['ExactHalf', '1.0000000000000000001', 0.01],
    ['ExactPt', '7000', undefined],
  ];
  for (const [match, price, accrual] of cases) {
    const number = orderNumber();
    const r = await call(base, 'POST', '/api/orders', { body: `{"order":"${number}","goods":[{"description":"a ${match}","price":${price}}]}`, headers: json });
    assert.equal(r.status, 202, r.text);
    const expected = { order: number, status: 'PROCESSED', ...(accrual === undefined ? {} : { accrual }) };
    assert.deepEqual(await waitFinal(base, number), expected, `${match} × ${price}`);
  }
  // a negative written below the smallest double is still negative, not the double's -0
  const neg = await call(base, 'POST', '/api/orders', { body: `{"order":"${orderNumber()}","goods":[{"description":"a","price":-1e-400}]}`, headers: json });
  assert.equal(neg.status, 400);
  assert.deepEqual(neg.json, { error: 'price must not be negative' });
});

test('no matching good, or no goods at all: PROCESSED without accrual', async () => {
  const none = orderNumber();
  await postOrder(base, none, [{ description: 'молоко', price: 80 }]);
  const final = await waitFinal(base, none);
  assert.deepEqual(final, { order: none, status: 'PROCESSED' });
  assert.equal('accrual' in final, false);
  const empty = orderNumber();
  assert.equal((await postOrder(base, empty, [])).status, 202);
  assert.deepEqual(await waitFinal(base, empty), { order: empty, status: 'PROCESSED' });
});

test('longest match wins over an earlier shorter one, in the service too', async () => {
  assert.equal((await postRule(base, 'Bork', 10, '%')).status, 200);
  assert.equal((await postRule(base, 'Bork Pro', 3, 'pt')).status, 200);
  const number = orderNumber();
  await postOrder(base, number, [
    { description: 'Чайник Bork Pro', price: 7000 },
    { description: 'Утюг Bork', price: 1000.05 },
  ]);
  // 3 + 100.005 = 103.005 → 103.01
  assert.deepEqual(await waitFinal(base, number), { order: number, status: 'PROCESSED', accrual: 103.01 });
});

test('order numbers longer than 2^53 keep every digit', async () => {
  const number = withLuhnCheckDigit('9'.repeat(30) + String(process.pid));
  assert.equal((await postOrder(base, number, [{ description: 'Pringles', price: 10 }])).status, 202);
  const final = await waitFinal(base, number);
  assert.equal(final.order, number);
  assert.equal(final.accrual, 1);
  const g = await getOrder(base, number);
  assert.ok(g.reply.text.includes(`"order":"${number}"`));
});

test('gzip-compressed request bodies are accepted', async () => {
  const number = orderNumber();
  const body = gzipSync(JSON.stringify({ order: number, goods: [{ description: 'Pringles', price: 20 }] }));
  const r = await call(base, 'POST', '/api/orders', { body, headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } });
  assert.equal(r.status, 202, r.text);
  assert.deepEqual(await waitFinal(base, number), { order: number, status: 'PROCESSED', accrual: 2 });
});

/** One request over node:http, which (unlike fetch) sends any header, `Expect` included. */
function rawRequest(
  method: string,
  path: string,
  headers: Record<string, string>,
  body?: string,
): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + path, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('an Expect other than 100-continue is ignored (RFC 9110 §10.1.1), not answered 417 outside the contract', async () => {
  const match = `Expect-${Date.now()}`;
  const body = JSON.stringify({ match, reward: 5, reward_type: '%' });
  const r = await rawRequest('POST', '/api/goods', { 'content-type': 'application/json', expect: 'something-else' }, body);
  assert.equal(r.status, 200, r.text);
  assert.deepEqual(JSON.parse(r.text), { match, reward: 5, reward_type: '%' });
});

test('HEAD of a 204 carries no Content-Length (RFC 9110 §8.6), and the JSON type like its GET', async () => {
  const unknown = orderNumber();
  for (const method of ['HEAD', 'GET']) {
    const r = await rawRequest(method, `/api/orders/${unknown}`, {});
    assert.equal(r.status, 204, method);
    assert.equal(r.headers['content-length'], undefined, `${method}: ${JSON.stringify(r.headers)}`);
    assert.match(r.headers['content-type'] ?? '', /^application\/json/, method);
  }
});

test('OpenAPI lists every endpoint with its status codes', async () => {
  const r = await call(base, 'GET', '/openapi.json');
  assert.equal(r.status, 200);
  const paths = (r.json as { paths: Record<string, Record<string, { responses: Record<string, unknown> }>> }).paths;
  assert.deepEqual(
    Object.entries(paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort(),
    servedOperations(['GET /api/orders/{number}', 'GET /healthz', 'GET /metrics', 'GET /readyz', 'POST /api/goods', 'POST /api/orders']),
  );
  // 408 and 431 are on every operation (any request may be too slow or its headers too large),
  // 400 on a path parameter's route (bad percent-encoding), 403 on every write (a browser's
  // cross-origin request)
  assert.deepEqual(Object.keys(paths['/api/goods']?.post?.responses ?? {}).sort(), ['200', '400', '403', '408', '409', '413', '415', '431', '500', '503']);
  assert.deepEqual(Object.keys(paths['/api/orders']?.post?.responses ?? {}).sort(), ['202', '400', '403', '408', '409', '413', '415', '431', '500', '503']);
  assert.deepEqual(Object.keys(paths['/api/orders/{number}']?.get?.responses ?? {}).sort(), ['200', '204', '400', '408', '429', '431', '500', '503']);
});

test('documented status codes cover every status the handlers answered in this file', async () => {
  const checked = await assertObservedStatusesDocumented(base);
  assert.ok(checked >= 8, `only ${checked} (route, status) pairs observed`);
});

test('SIGTERM: exit code 0 promptly', async () => {
  const started = Date.now();
  const code = await svc.stop('SIGTERM');
  assert.equal(code, 0, svc.output());
  assert.ok(Date.now() - started < 5000, `took ${Date.now() - started} ms`);
});
