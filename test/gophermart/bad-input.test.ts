import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { request as httpRequest } from 'node:http';
import { assertAnswerConforms } from '../support/contract.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { orderNumber } from '../support/accrual.js';
import { postgresTarget, type GophermartTarget } from './targets.js';

let t: GophermartTarget;
before(async () => {
  t = await postgresTarget();
});
after(async () => {
  await t?.close();
});

const sqlish = ["'; drop table gophermart.users; --", '1 OR 1=1', '12345678903; delete from gophermart.orders', "' or ''='"];
const invalidUtf8 = Buffer.from([0x7b, 0x22, 0x6c, 0x6f, 0x67, 0x69, 0x6e, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]);
const deep = '['.repeat(5000) + ']'.repeat(5000);

interface Probe {
  method: string;
  path: string;
  body?: string | Buffer;
  headers?: Record<string, string>;
  /** The exact status this probe must get. */
  status: number;
}

function probes(): Probe[] {
  const json = { 'content-type': 'application/json' };
  const list: Probe[] = [];
  // a path that is not valid percent-encoding, on the web app's catch-all, a path parameter and
  // the /docs files: 400, and the document lists it (call() checks every answer against it)
  for (const path of ['/%ZZ', '/api/user/orders/%ZZ', '/docs/%ZZ']) list.push({ method: 'GET', path, status: 400 });
  for (const path of ['/api/user/register', '/api/user/login']) {
    list.push(
      { method: 'POST', path, body: invalidUtf8, headers: json, status: 400 },
      { method: 'POST', path, body: deep, headers: json, status: 400 },
      { method: 'POST', path, body: '<login>a</login>', headers: { 'content-type': 'application/xml' }, status: 400 },
      {
        method: 'POST',
        path,
        body: '--x\r\nContent-Disposition: form-data; name="login"\r\n\r\na\r\n--x--',
        headers: { 'content-type': 'multipart/form-data; boundary=x' },
        status: 400,
      },
      { method: 'POST', path, body: '{"login":"a","password":"b"', headers: json, status: 400 },
      { method: 'POST', path, body: '{"__proto__":{"admin":true},"login":{"$ne":""},"password":"x"}', headers: json, status: 400 },
      { method: 'POST', path, body: JSON.stringify({ login: ['a'], password: 'x' }), headers: json, status: 400 },
      { method: 'POST', path, body: JSON.stringify({ login: 'a'.repeat(300), password: 'x' }), headers: json, status: 400 },
      // over-long at registration; at login any password that does not match is a wrong pair
      { method: 'POST', path, body: JSON.stringify({ login: 'a', password: 'x'.repeat(2000) }), headers: json, status: path.endsWith('/login') ? 401 : 400 },
      { method: 'POST', path, body: '', headers: json, status: 400 },
      { method: 'POST', path, body: '\u0000', headers: json, status: 400 },
      { method: 'POST', path, body: 'x', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, status: 415 },
    );
  }
  // a route that expects no body still parses one a client sends
  list.push(
    { method: 'POST', path: '/api/user/logout', body: '{"a":', headers: json, status: 400 },
    { method: 'POST', path: '/api/user/logout', body: '79927398713'.repeat(10_000), headers: { 'content-type': 'text/plain' }, status: 413 },
    { method: 'POST', path: '/api/user/logout', body: 'x', headers: { 'content-type': 'application/json', 'content-encoding': 'br' }, status: 415 },
  );
  // a wrong pair, however it is spelt
  for (const s of sqlish) {
    list.push({ method: 'POST', path: '/api/user/login', body: JSON.stringify({ login: s, password: s }), headers: json, status: 401 });
  }
  return list;
}

function authedProbes(): Probe[] {
  const json = { 'content-type': 'application/json' };
  const text = { 'content-type': 'text/plain' };
  const order = '/api/user/orders';
  const withdraw = '/api/user/balance/withdraw';
  const list: Probe[] = [
    { method: 'POST', path: order, body: invalidUtf8, headers: text, status: 400 },
    { method: 'POST', path: order, body: '1'.repeat(1001), headers: text, status: 422 }, // over the 1000-digit bound (1000 ones would pass Luhn)
    { method: 'POST', path: order, body: '12345678903\u0000', headers: text, status: 422 },
    { method: 'POST', path: order, body: '{"order_number": [1]}', headers: json, status: 400 },
    { method: 'POST', path: order, body: '{"order_number": "1', headers: json, status: 400 },
    { method: 'POST', path: order, body: '79927398713'.repeat(10_000), headers: text, status: 413 },
    { method: 'POST', path: withdraw, body: invalidUtf8, headers: json, status: 400 },
    { method: 'POST', path: withdraw, body: deep, headers: json, status: 400 },
    // a well-formed sum beyond the largest amount is more than any balance: 402, and nothing changes
    { method: 'POST', path: withdraw, body: JSON.stringify({ order: '79927398713', sum: 1e308 }), headers: json, status: 402 },
    // a JSON number past the largest double is as much more than any balance
    { method: 'POST', path: withdraw, body: '{"order":"79927398713","sum":1e999}', headers: json, status: 402 },
    { method: 'POST', path: withdraw, body: JSON.stringify({ order: '79927398713', sum: 0.001 }), headers: json, status: 422 },
    { method: 'POST', path: withdraw, body: JSON.stringify({ order: '79927398713', sum: null }), headers: json, status: 400 },
    { method: 'POST', path: withdraw, body: JSON.stringify({ order: '79927398713', sum: true }), headers: json, status: 400 },
    { method: 'POST', path: withdraw, body: 'order=79927398713&sum=1', headers: { 'content-type': 'application/x-www-form-urlencoded' }, status: 400 },
    { method: 'PUT', path: '/api/user/balance', status: 404 },
    { method: 'DELETE', path: order, status: 404 },
  ];
  // never digits: refused as order numbers that cannot be processed
  for (const s of sqlish) {
    list.push({ method: 'POST', path: order, body: s, headers: text, status: 422 });
    list.push({ method: 'POST', path: withdraw, body: JSON.stringify({ order: s, sum: 1 }), headers: json, status: 422 });
  }
  return list;
}

async function snapshot(token: string): Promise<unknown> {
  const [orders, balance, withdrawals] = await Promise.all(
    ['/api/user/orders', '/api/user/balance', '/api/user/withdrawals'].map((p) => call(t.url, 'GET', p, { token }).then((r) => [r.status, r.json])),
  );
  return { orders, balance, withdrawals };
}

test('bad input sweep: every probe gets its exact 4xx with a JSON error and changes nothing', async () => {
  const login = uniqueLogin('victim');
  const token = await signUp(t.url, login);
  const n = orderNumber();
  await call(t.url, 'POST', '/api/user/orders', { token, body: n });
  await t.store.applyAccrualResult(n, 'PROCESSED', 1000);
  const before = await snapshot(token);
  const countUsers = async () => (await t.store.findUserByLogin(login)) !== undefined;

  for (const p of [...probes(), ...authedProbes().map((x) => ({ ...x, headers: { ...x.headers, authorization: `Bearer ${token}` } }))]) {
    const r = await call(t.url, p.method, p.path, { body: p.body, headers: p.headers });
    const label = `${p.method} ${p.path} ${String(p.body ?? '').slice(0, 50)}`;
    assert.equal(r.status, p.status, `${label} → ${r.status} ${r.text.slice(0, 200)}`);
    assert.equal(r.headers.get('content-type'), 'application/json', label);
    const body = r.json as { error?: unknown };
    assert.equal(typeof body?.error, 'string', label);
    assert.doesNotMatch(r.text, /stack|at .*\.js|select |insert |postgres/i, label);
    if (p.method === 'GET' && p.body === undefined) {
      // fetch asks for gzip; a client that does not gets the same type on the plain answer
      const plain = await getWithBody(t.url, p.path, p.headers ?? {}, '');
      assert.deepEqual([plain.status, plain.contentType], [p.status, 'application/json'], `${label} without Accept-Encoding`);
    }
  }
  assert.deepEqual(await snapshot(token), before);
  assert.equal(await countUsers(), true);
  assert.equal((await call(t.url, 'GET', '/readyz')).status, 200);
});

/** A GET that carries a body (fetch cannot send one), answered as text. */
function getWithBody(
  base: string,
  path: string,
  headers: Record<string, string>,
  body: string,
): Promise<{ status: number; contentType: string | null; text: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${base}${path}`, { method: 'GET', headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) } }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: res.headers['content-type'] ?? null, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

test('a GET is answered as without its body, whatever Content-Encoding that body claims', async () => {
  const token = await signUp(t.url, uniqueLogin('getbody'));
  for (const encoding of ['br', 'gzip', 'compress']) {
    for (const [path, auth, status] of [
      ['/api/user/balance', true, 200],
      ['/api/user/orders', true, 204],
      ['/api/user/balance', false, 401],
      ['/healthz', false, 200],
    ] as const) {
      const headers: Record<string, string> = {
        'content-type': 'text/plain',
        'content-encoding': encoding,
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
      };
      const r = await getWithBody(t.url, path, headers, 'not compressed at all');
      assert.equal(r.status, status, `GET ${path} with a ${encoding} body: ${r.status} ${r.text}`);
      let json: unknown;
      if (r.text !== '') json = JSON.parse(r.text);
      await assertAnswerConforms(t.url, { method: 'GET', path, status: r.status, contentType: r.contentType, text: r.text, json });
    }
  }
});
