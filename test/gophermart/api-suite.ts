import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { gzipSync, gunzipSync } from 'node:zlib';
import { after, before, describe, test } from 'node:test';
import { createSigner } from 'fast-jwt';
import { withLuhnCheckDigit } from '../../src/kernel/luhn.js';
import { orderNumber } from '../support/accrual.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { assertObservedStatusesDocumented, documentedOperations, servedOperations, type OpenApiDoc } from '../support/openapi.js';
import { TEST_JWT_SECRET, type GophermartTarget } from './targets.js';

function assertJson(r: { headers: Headers }): void {
  // the contract's letter: `application/json`, no parameters
  assert.equal(r.headers.get('content-type'), 'application/json');
}

/** Raw request over node:http, for headers fetch would add or hide (gzip). */
function raw(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

export function gophermartApiSuite(open: () => Promise<GophermartTarget>): void {
  let t: GophermartTarget;
  before(async () => {
    t = await open();
  });
  after(async () => {
    await t?.close();
  });

  test('/openapi.json documents exactly the routes the server registers', async () => {
    const proxy = ['DELETE', 'GET', 'HEAD', 'OPTIONS', 'PATCH', 'POST', 'PUT'].flatMap((m) => [`${m} /ledger`, `${m} /ledger/{*}`]);
    const expected = servedOperations([
      'POST /api/user/register',
      'POST /api/user/login',
      'GET /api/user/me',
      'GET /api/user/session',
      'POST /api/user/logout',
      'POST /api/user/orders',
      'GET /api/user/orders',
      'GET /api/user/balance',
      'POST /api/user/balance/withdraw',
      'GET /api/user/withdrawals',
      'GET /healthz',
      'GET /readyz',
      'GET /metrics',
      'GET /ledger/session',
      'DELETE /ledger/session',
      ...proxy,
      'GET /{*}',
    ]);
    const doc = (await (await fetch(`${t.url}/openapi.json`)).json()) as OpenApiDoc;
    const documented = Object.entries(doc.paths)
      .flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`))
      .sort();
    assert.deepEqual(documented, expected);
    // in-process targets also know every route the server registered: the same set, both ways
    if (t.app) assert.deepEqual(await documentedOperations(t.app, t.url), expected);
  });

  describe('register and login', () => {
    test('register returns 200 with the token as header and HttpOnly cookie', async () => {
      const login = uniqueLogin();
      const r = await call(t.url, 'POST', '/api/user/register', { body: { login, password: 'pw-1-secret' } });
      assert.equal(r.status, 200);
      assertJson(r);
      assert.match(r.headers.get('authorization') ?? '', /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      const cookie = r.headers.get('set-cookie') ?? '';
      assert.match(cookie, /^token=[\w-]+\.[\w-]+\.[\w-]+;/);
      assert.match(cookie, /HttpOnly/i);
      assert.doesNotMatch(r.text, /pw-1-secret/);
    });

    test('the username alias registers too; a taken login is 409', async () => {
      const login = uniqueLogin();
      assert.equal((await call(t.url, 'POST', '/api/user/register', { body: { username: login, password: 'x-password' } })).status, 200);
      const again = await call(t.url, 'POST', '/api/user/register', { body: { login, password: 'other-password' } });
      assert.equal(again.status, 409);
      assertJson(again);
      assert.equal(typeof (again.json as { error: unknown }).error, 'string');
    });

    test('login: 200 with a working token, 401 for a wrong pair or unknown login', async () => {
      const login = uniqueLogin();
      await signUp(t.url, login, 'right-password');
      const ok = await call(t.url, 'POST', '/api/user/login', { body: { login, password: 'right-password' } });
      assert.equal(ok.status, 200);
      const token = (ok.headers.get('authorization') ?? '').replace('Bearer ', '');
      assert.equal((await call(t.url, 'GET', '/api/user/balance', { token })).status, 200);
      assert.equal((await call(t.url, 'POST', '/api/user/login', { body: { login, password: 'wrong' } })).status, 401);
      assert.equal((await call(t.url, 'POST', '/api/user/login', { body: { login: uniqueLogin(), password: 'right-password' } })).status, 401);
    });

    test('a lone surrogate never stands for U+FFFD: refused in a new password, matching nobody at sign-in', async () => {
      const login = uniqueLogin();
      const refused = await call(t.url, 'POST', '/api/user/register', { body: { login, password: 'password\ud800' } });
      assert.equal(refused.status, 400, refused.text);
      assertJson(refused);
      // stored as written, U+FFFD and all; a lone surrogate would reach the hash as that same U+FFFD
      await signUp(t.url, login, 'password\ufffd');
      assert.equal((await call(t.url, 'POST', '/api/user/login', { body: { login, password: 'password\ufffd' } })).status, 200);
      for (const guess of ['password\ud800', 'password\udbff'])
        assert.equal((await call(t.url, 'POST', '/api/user/login', { body: { login, password: guess } })).status, 401, JSON.stringify(guess));
    });

    test('400 for malformed credentials', async () => {
      const bodies: Array<string | object> = [
        '{"login":',
        'login=a&password=b',
        [],
        'null',
        '"text"',
        { login: '', password: 'x' },
        { login: '   ', password: 'x' },
        { login: 'a' },
        { password: 'x' },
        { login: 'a', password: '' },
        { login: 12, password: 'x' },
        { login: 'a', password: 7 },
        { login: 'x'.repeat(10_000), password: 'x' },
        { login: 'a\u0000b', password: 'x' },
        { login: 'a\ud800b', password: 'right-password' },
      ];
      for (const body of bodies) {
        for (const path of ['/api/user/register', '/api/user/login']) {
          const r = await call(t.url, 'POST', path, { body, headers: { 'content-type': 'application/json' } });
          assert.equal(r.status, 400, `${path} ${JSON.stringify(body).slice(0, 60)} → ${r.status} ${r.text}`);
          assertJson(r);
        }
      }
    });
  });

  describe('authentication', () => {
    test('protected endpoints: 401 without, with tampered or expired token; cookie accepted', async () => {
      const token = await signUp(t.url, uniqueLogin());
      const [h, p, s] = token.split('.');
      const tampered = `${h}.${Buffer.from(JSON.stringify({ sub: '1', iss: 'gophermart', exp: 4102444800 })).toString('base64url')}.${s}`;
      assert.notEqual(tampered, `${h}.${p}.${s}`);
      const expired = createSigner({ key: TEST_JWT_SECRET, expiresIn: 1000, iss: 'gophermart', clockTimestamp: Date.now() - 86_400_000 })({ sub: '1' });
      const endpoints: Array<[string, string]> = [
        ['GET', '/api/user/orders'],
        ['POST', '/api/user/orders'],
        ['GET', '/api/user/balance'],
        ['POST', '/api/user/balance/withdraw'],
        ['GET', '/api/user/withdrawals'],
      ];
      for (const [method, path] of endpoints) {
        for (const bad of [undefined, 'garbage', tampered, expired]) {
          const r = await call(t.url, method, path, { token: bad, body: method === 'POST' ? '12345678903' : undefined });
          assert.equal(r.status, 401, `${method} ${path} token=${String(bad).slice(0, 12)}`);
          assertJson(r);
        }
      }
      const viaCookie = await call(t.url, 'GET', '/api/user/balance', { headers: { cookie: `token=${token}` } });
      assert.equal(viaCookie.status, 200);
      const bare = await call(t.url, 'GET', '/api/user/balance', { headers: { authorization: token } });
      assert.equal(bare.status, 200, 'a bare JWT without the Bearer scheme is accepted');
      const basic = await call(t.url, 'GET', '/api/user/balance', { headers: { authorization: 'Basic YTpi' } });
      assert.equal(basic.status, 401);
      // another scheme is for a proxy in front (its basic authentication): the cookie decides
      const basicBeside = await call(t.url, 'GET', '/api/user/balance', { headers: { authorization: 'Basic YTpi', cookie: `token=${token}` } });
      assert.equal(basicBeside.status, 200, 'a Basic header beside a good cookie');
      // a header that is there decides alone: a client that keeps cookies still sees its bad header refused
      for (const bad of [expired, tampered, 'garbage']) {
        const beside = await call(t.url, 'GET', '/api/user/balance', { headers: { authorization: `Bearer ${bad}`, cookie: `token=${token}` } });
        assert.equal(beside.status, 401, 'a bad header beside a good cookie is 401');
      }
    });
  });

  describe('orders', () => {
    test('upload with a valid token of a user the database does not hold: 401, and the number stays free', async () => {
      // a token signed with the right secret outlives its user when the database is replaced
      const ghost = createSigner({ key: TEST_JWT_SECRET, expiresIn: 3_600_000, iss: 'gophermart' })({ sub: '987654321' });
      const number = withLuhnCheckDigit(`55${String(Date.now()).slice(-10)}`);
      const refused = await call(t.url, 'POST', '/api/user/orders', { token: ghost, body: number });
      assert.equal(refused.status, 401);
      assertJson(refused);
      const owner = await signUp(t.url, uniqueLogin());
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token: owner, body: number })).status, 202);
    });

    test('upload: 202 new, 200 again by the owner, 409 by another user', async () => {
      const alice = await signUp(t.url, uniqueLogin('alice'));
      const bob = await signUp(t.url, uniqueLogin('bob'));
      const n = orderNumber();
      const first = await call(t.url, 'POST', '/api/user/orders', { token: alice, body: n, headers: { 'content-type': 'text/plain' } });
      assert.equal(first.status, 202);
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token: alice, body: `  ${n}\n`, headers: { 'content-type': 'text/plain' } })).status, 200);
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token: bob, body: n, headers: { 'content-type': 'text/plain' } })).status, 409);
    });

    test('upload accepts JSON {"order_number"} and {"number"} bodies', async () => {
      const token = await signUp(t.url, uniqueLogin());
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: { order_number: orderNumber() } })).status, 202);
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: { number: ` ${orderNumber()} ` } })).status, 202);
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: { order_number: 12 } })).status, 422);
      // a JSON number is a float once parsed: never turned into some number's digits
      const json = { 'content-type': 'application/json' };
      const valid = orderNumber();
      for (const body of [`{"order_number": ${valid}}`, `{"number": ${valid.slice(0, -1)}.${valid.slice(-1)}e1}`, `{"number": 1${'0'.repeat(21)}}`]) {
        const r = await call(t.url, 'POST', '/api/user/orders', { token, body, headers: json });
        assert.equal(r.status, 422, body);
      }
      // digits alone are the number as written, whatever the content type (here a 30-digit one)
      const digits = withLuhnCheckDigit(`${Date.now()}${'3'.repeat(16)}`);
      const bare = await call(t.url, 'POST', '/api/user/orders', { token, body: digits, headers: json });
      assert.deepEqual([bare.status, (bare.json as { number: string }).number], [202, digits]);
      // digit strings of any length (up to the 1000-digit index bound)
      const long = withLuhnCheckDigit(`${Date.now()}${'7'.repeat(290)}`);
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: long, headers: { 'content-type': 'text/plain' } })).status, 202);
      assert.equal(
        (await call(t.url, 'POST', '/api/user/orders', { token, body: withLuhnCheckDigit('9'.repeat(1000)), headers: { 'content-type': 'text/plain' } }))
          .status,
        422,
      );
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: { other: '1' } })).status, 400);
    });

    test('upload: 422 for non-digits or Luhn failure, 400 for an empty body', async () => {
      const token = await signUp(t.url, uniqueLogin());
      for (const body of ['12345678900', 'abc', '1234 5678 903', '-12345678903', '12345678903x', '٣'])
        assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body, headers: { 'content-type': 'text/plain' } })).status, 422, body);
      for (const body of ['', '   \n'])
        assert.equal(
          (await call(t.url, 'POST', '/api/user/orders', { token, body, headers: { 'content-type': 'text/plain' } })).status,
          400,
          JSON.stringify(body),
        );
      assert.equal((await call(t.url, 'GET', '/api/user/orders', { token })).status, 204);
    });

    test('list: 204 with JSON content type when empty; oldest first; accrual only when PROCESSED and non-zero', async () => {
      const token = await signUp(t.url, uniqueLogin());
      const empty = await call(t.url, 'GET', '/api/user/orders', { token });
      assert.equal(empty.status, 204);
      assertJson(empty);
      const numbers = [orderNumber(), orderNumber(), orderNumber(), orderNumber()];
      for (const n of numbers) {
        assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: n })).status, 202);
        await new Promise((r) => setTimeout(r, 5));
      }
      await t.store.applyAccrualResult(numbers[0]!, 'PROCESSED', 72998);
      await t.store.applyAccrualResult(numbers[1]!, 'PROCESSED', 0);
      await t.store.applyAccrualResult(numbers[2]!, 'INVALID');
      await t.store.applyAccrualResult(numbers[3]!, 'PROCESSING');
      const r = await call(t.url, 'GET', '/api/user/orders', { token });
      assert.equal(r.status, 200);
      assertJson(r);
      const list = r.json as Array<Record<string, unknown>>;
      assert.deepEqual(
        list.map((o) => o.number),
        numbers,
      );
      assert.deepEqual(
        list.map((o) => o.status),
        ['PROCESSED', 'PROCESSED', 'INVALID', 'PROCESSING'],
      );
      assert.equal(list[0]!.accrual, 729.98);
      for (const o of list.slice(1)) assert.equal('accrual' in o, false);
      for (const o of list) assert.match(String(o.uploaded_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$/);
      const times = list.map((o) => Date.parse(String(o.uploaded_at)));
      assert.deepEqual(
        [...times].sort((a, b) => a - b),
        times,
      );
    });
  });

  describe('balance and withdrawals', () => {
    async function fundedUser(hundredths: number): Promise<string> {
      const token = await signUp(t.url, uniqueLogin('rich'));
      const n = orderNumber();
      assert.equal((await call(t.url, 'POST', '/api/user/orders', { token, body: n })).status, 202);
      assert.equal(await t.store.applyAccrualResult(n, 'PROCESSED', hundredths), 'applied');
      return token;
    }

    test('balance reflects credits; a credit is applied once however often the result is seen', async () => {
      const token = await signUp(t.url, uniqueLogin());
      const b0 = await call(t.url, 'GET', '/api/user/balance', { token });
      assert.equal(b0.status, 200);
      assertJson(b0);
      assert.deepEqual(b0.json, { current: 0, withdrawn: 0 });
      const n = orderNumber();
      await call(t.url, 'POST', '/api/user/orders', { token, body: n });
      assert.equal(await t.store.applyAccrualResult(n, 'PROCESSED', 50050), 'applied');
      assert.equal(await t.store.applyAccrualResult(n, 'PROCESSED', 50050), 'unchanged');
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 500.5, withdrawn: 0 });
    });

    test('withdraw: 200, history, identical repeat is free, conflicts are 409', async () => {
      const token = await fundedUser(72998);
      const other = await fundedUser(10000);
      const order = orderNumber();
      const w = await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order, sum: 100.5 } });
      assert.equal(w.status, 200, w.text);
      assertJson(w);
      const repeat = await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order, sum: 100.5 } });
      assert.equal(repeat.status, 200);
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 629.48, withdrawn: 100.5 });
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order, sum: 100 } })).status, 409);
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token: other, body: { order, sum: 100.5 } })).status, 409);
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token: other })).json, { current: 100, withdrawn: 0 });
      const second = orderNumber();
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: second, sum: 29.48 } })).status, 200);
      const list = await call(t.url, 'GET', '/api/user/withdrawals', { token });
      assert.equal(list.status, 200);
      assertJson(list);
      const items = list.json as Array<Record<string, unknown>>;
      assert.deepEqual(
        items.map((i) => [i.order, i.sum]),
        [
          [order, 100.5],
          [second, 29.48],
        ],
      );
      for (const i of items) assert.match(String(i.processed_at), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?([+-]\d\d:\d\d|Z)$/);
    });

    test('withdraw: 402 when short, 422 for a bad order or sum, 400 when malformed; nothing changes', async () => {
      const token = await fundedUser(1000);
      const empty = await call(t.url, 'GET', '/api/user/withdrawals', { token });
      assert.equal(empty.status, 204);
      assertJson(empty);
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: orderNumber(), sum: 10.01 } })).status, 402);
      // a well-formed sum beyond the platform's largest amount is simply more than the balance
      for (const sum of [1e13, 9007199254740992, 1e300]) {
        assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: orderNumber(), sum } })).status, 402, String(sum));
      }
      const cases: Array<[unknown, number]> = [
        [{ order: '12345678900', sum: 1 }, 422],
        [{ order: 'abc', sum: 1 }, 422],
        [{ order: orderNumber(), sum: 0 }, 422],
        [{ order: orderNumber(), sum: -5 }, 422],
        [{ order: orderNumber(), sum: 1.005 }, 422],
        [{ order: orderNumber(), sum: '5' }, 400],
        [{ order: orderNumber() }, 400],
        [{ sum: 5 }, 400],
        [{ order: '', sum: 5 }, 400],
        [{ order: 2377225624, sum: 5 }, 400],
        ['{"order":', 400],
        [[1, 2], 400],
      ];
      for (const [body, status] of cases) {
        const r = await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: body as object, headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
        assertJson(r);
      }
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 10, withdrawn: 0 });
      assert.equal((await call(t.url, 'GET', '/api/user/withdrawals', { token })).status, 204);
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: { order: orderNumber(), sum: 10 } })).status, 200);
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 0, withdrawn: 10 });
    });

    test('withdraw: a sum is judged as written, not as the double it parses to; nothing changes', async () => {
      const token = await fundedUser(100000);
      const json = { 'content-type': 'application/json' };
      const invalid = { error: 'sum must be a positive amount with at most 2 decimals' };
      const withdraw = (sum: string) => `{"order":"${orderNumber()}","sum":${sum}}`;
      // each literal's nearest double is a two-decimal amount (1.1, 2, …) or -Infinity
      for (const sum of ['1.100000000000000000001', '2.0000000000000001', '123456789012345.678', '-1e400', '1.001', '0.1e-1000']) {
        const r = await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: withdraw(sum), headers: json });
        assert.deepEqual([r.status, r.json], [422, invalid], sum);
      }
      // past the largest double is a number too, more than any balance holds (as 1e308 is)
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: withdraw('1e400'), headers: json })).status, 402);
      const gzipped = await raw(
        `${t.url}/api/user/balance/withdraw`,
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        gzipSync(withdraw('1.100000000000000000001')),
      );
      assert.deepEqual([gzipped.status, JSON.parse(gzipped.body.toString())], [422, invalid]);
      // a repeated member: the last one is the sum, as JSON.parse has it
      const repeated = `{"order":"${orderNumber()}","sum":1.10,"sum":1.001}`;
      assert.equal((await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: repeated, headers: json })).status, 422);
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 1000, withdrawn: 0 });
      assert.equal((await call(t.url, 'GET', '/api/user/withdrawals', { token })).status, 204);

      // sums of at most two decimals stay accepted in every spelling, and are charged as written
      const accepted: Array<[string, number]> = [
        ['1.10', 1.1],
        ['1.1', 1.1],
        ['1e2', 100],
        ['1.5e1', 15],
        ['100', 100],
        ['2.50e0', 2.5],
      ];
      for (const [sum, charged] of accepted) {
        const r = await call(t.url, 'POST', '/api/user/balance/withdraw', { token, body: withdraw(sum), headers: json });
        assert.equal(r.status, 200, `${sum} → ${r.text}`);
        assert.equal((r.json as { sum: number }).sum, charged, sum);
      }
      const zipped = await raw(
        `${t.url}/api/user/balance/withdraw`,
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-encoding': 'gzip' },
        gzipSync(withdraw('0.25')),
      );
      assert.equal(zipped.status, 200, zipped.body.toString());
      const last = await call(t.url, 'POST', '/api/user/balance/withdraw', {
        token,
        body: `{"order":"${orderNumber()}","sum":1.001,"sum":0.05}`,
        headers: json,
      });
      assert.equal(last.status, 200, last.text);
      // 1.1 + 1.1 + 100 + 15 + 100 + 2.5 + 0.25 + 0.05
      assert.deepEqual((await call(t.url, 'GET', '/api/user/balance', { token })).json, { current: 780, withdrawn: 220 });
    });
  });

  describe('HTTP conventions', () => {
    test('gzip request bodies are decoded; corrupt gzip is 400', async () => {
      const token = await signUp(t.url, uniqueLogin());
      const n = orderNumber();
      const ok = await raw(
        `${t.url}/api/user/orders`,
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'content-encoding': 'gzip' },
        gzipSync(n),
      );
      assert.equal(ok.status, 202, ok.body.toString());
      const login = uniqueLogin();
      const reg = await raw(
        `${t.url}/api/user/register`,
        'POST',
        { 'content-type': 'application/json', 'content-encoding': 'gzip' },
        gzipSync(JSON.stringify({ login, password: 'gzipped-password' })),
      );
      assert.equal(reg.status, 200);
      const bad = await raw(
        `${t.url}/api/user/orders`,
        'POST',
        { authorization: `Bearer ${token}`, 'content-type': 'text/plain', 'content-encoding': 'gzip' },
        Buffer.from('not gzip at all'),
      );
      assert.equal(bad.status, 400);
      assert.match(String(bad.headers['content-type']), /application\/json/);
    });

    test('responses are gzip-compressed when accepted and worth it', async () => {
      const token = await signUp(t.url, uniqueLogin());
      for (let i = 0; i < 10; i++) await call(t.url, 'POST', '/api/user/orders', { token, body: orderNumber() });
      const r = await raw(`${t.url}/api/user/orders`, 'GET', { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' });
      assert.equal(r.status, 200);
      assert.equal(r.headers['content-encoding'], 'gzip');
      const list = JSON.parse(gunzipSync(r.body).toString()) as unknown[];
      assert.equal(list.length, 10);
      const plain = await raw(`${t.url}/api/user/orders`, 'GET', { authorization: `Bearer ${token}` });
      assert.equal(plain.headers['content-encoding'], undefined);
      const small = await raw(`${t.url}/api/user/balance`, 'GET', { authorization: `Bearer ${token}`, 'accept-encoding': 'gzip' });
      assert.equal(small.headers['content-encoding'], 'gzip', 'Accept-Encoding: gzip is honoured on small bodies too');
      assert.deepEqual(JSON.parse(gunzipSync(small.body).toString()), { current: 0, withdrawn: 0 });
    });

    test('oversized bodies are 413; unknown routes 404; health endpoints', async () => {
      const big = await call(t.url, 'POST', '/api/user/register', {
        // register and login take up to 1 MiB (an over-long password meets the password rule); beyond, 413
        body: JSON.stringify({ login: 'a', password: 'x'.repeat(1_100_000) }),
        headers: { 'content-type': 'application/json' },
      });
      assert.equal(big.status, 413);
      assertJson(big);
      const nf = await call(t.url, 'GET', '/api/nope');
      assert.equal(nf.status, 404);
      assertJson(nf);
      assert.equal((await call(t.url, 'GET', '/healthz')).status, 200);
      assert.deepEqual((await call(t.url, 'GET', '/readyz')).json, { status: 'ready' });
    });
  });

  test('documented status codes cover every status the handlers answered in this suite', async () => {
    // last in file order: by now every endpoint has answered its success and error codes
    const checked = await assertObservedStatusesDocumented(t.url);
    assert.ok(checked >= 20, `only ${checked} (route, status) pairs observed`);
  });
}
