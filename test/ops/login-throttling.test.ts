import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { call, type Reply, uniqueLogin } from '../support/http.js';
import type { ServiceProcess } from '../support/process.js';
import { servicesOnFreshDatabase } from '../support/services.js';

// Both user-facing services as bin/* on one real PostgreSQL database, over real HTTP, with SPEC's
// numbers (the defaults). Instances a and b believe X-Forwarded-For from loopback (TRUST_PROXY),
// so a test can speak from many client addresses; c trusts nobody, as a default deployment.
const env = servicesOnFreshDatabase('login_guard', { SHARD_TOKEN: 'login-guard-shard-token' });

interface Target {
  bin: string;
  register: string;
  login: string;
  env: Record<string, string>;
}

const targets: Target[] = [
  { bin: 'gophermart', register: '/api/user/register', login: '/api/user/login', env: { ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9', POLL_CONCURRENCY: '0' } },
  { bin: 'orchestrator', register: '/auth/register', login: '/auth/login', env: { SHARD_ADDRESSES: '127.0.0.1:9' } },
];

let addressCounter = 0;
/** A client address of the documentation range, unique to this run. */
const clientAddress = () => `203.0.113.${++addressCounter}`;

for (const target of targets) {
  describe(target.bin, () => {
    let instances: Promise<{ a: ServiceProcess; b: ServiceProcess; c: ServiceProcess }> | undefined;
    const started = () => {
      instances ??= (async () => ({
        a: await env.start(target.bin, { ...target.env, TRUST_PROXY: '127.0.0.1' }),
        b: await env.start(target.bin, { ...target.env, TRUST_PROXY: 'loopback' }),
        c: await env.start(target.bin, target.env),
      }))();
      return instances;
    };
    const attempt = (svc: ServiceProcess, login: string, password: string, from?: string): Promise<Reply> =>
      call(svc.url, 'POST', target.login, { body: { login, password }, headers: from ? { 'x-forwarded-for': from } : {} });
    const register = async (svc: ServiceProcess, login: string, password: string): Promise<void> => {
      const r = await call(svc.url, 'POST', target.register, { body: { login, password }, headers: { 'x-forwarded-for': clientAddress() } });
      assert.equal(r.status, 200, r.text);
    };
    const assertThrottled = (r: Reply): number => {
      assert.equal(r.status, 429, r.text);
      assert.deepEqual(r.json, { error: 'too many failed logins' });
      assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
      const retryAfter = r.headers.get('retry-after') ?? '';
      assert.match(retryAfter, /^[1-9]\d*$/);
      return Number(retryAfter);
    };

    test('register takes passwords of 8 to 1024 characters, else 400 saying so; at login any wrong password is 401', async () => {
      const { a } = await started();
      const base = uniqueLogin('len');
      for (const [length, status] of [
        [7, 400],
        [8, 200],
        [1024, 200],
        [1025, 400],
        // far beyond the other routes' 64 KiB body limit: still the password rule, not a 413
        [1_000_000, 400],
      ] as const) {
        const r = await call(a.url, 'POST', target.register, {
          body: { login: `${base}-${length}`, password: 'p'.repeat(length) },
          headers: { 'x-forwarded-for': clientAddress() },
        });
        assert.equal(r.status, status, `${length} characters: ${r.text}`);
        if (status === 400) assert.deepEqual(r.json, { error: 'password must be 8 to 1024 characters' });
      }
      // a short password that was never allowed is still just a wrong pair, and so is one over the limit
      const from = clientAddress();
      for (const password of ['p', 'p'.repeat(7), 'q'.repeat(1025), 'q'.repeat(1_000_000)]) {
        const r = await attempt(a, `${base}-8`, password, from);
        assert.equal(r.status, 401, r.text);
        assert.deepEqual(r.json, { error: 'wrong login or password' });
      }
      assert.equal((await attempt(a, `${base}-1024`, 'p'.repeat(1024), from)).status, 200);
      // the credentials routes' own limit is 1 MiB
      const huge = await attempt(a, `${base}-8`, 'q'.repeat(1024 * 1024), from);
      assert.equal(huge.status, 413, huge.text);
    });

    test('the 11th failed login of a pair is 429 with Retry-After, even with the right password, on every instance; another address signs in', async () => {
      const { a, b } = await started();
      const login = uniqueLogin('victim');
      await register(a, login, 'the-right-password');
      const attacker = clientAddress();
      // the instances share the counters: five failures on each
      for (let i = 0; i < 10; i++) {
        const r = await attempt(i % 2 === 0 ? a : b, login, `guess-number-${i}`, attacker);
        assert.equal(r.status, 401, `failure ${i + 1}: ${r.text}`);
      }
      for (const svc of [a, b]) {
        const retryAfter = assertThrottled(await attempt(svc, login, 'guess-number-10', attacker));
        // 15 minutes from the first failure, a few seconds ago
        assert.ok(retryAfter > 800 && retryAfter <= 900, `Retry-After ${retryAfter}`);
        // the password is not checked while locked: the right one is refused the same way
        assertThrottled(await attempt(svc, login, 'the-right-password', attacker));
      }
      // the owner at another address is not locked out by the attacker's failures
      const owner = await attempt(b, login, 'the-right-password', clientAddress());
      assert.equal(owner.status, 200, owner.text);
      assert.match(owner.headers.get('authorization') ?? '', /^Bearer /);
      // and another login from the attacker's address is not held by this pair
      assert.equal((await attempt(a, uniqueLogin('other'), 'some-password', attacker)).status, 401);
    });

    test("a successful login clears the pair's counter", async () => {
      const { a, b } = await started();
      const login = uniqueLogin('forgetful');
      await register(a, login, 'remembered-at-last');
      const from = clientAddress();
      for (let i = 0; i < 9; i++) assert.equal((await attempt(a, login, `not-it-${i}`, from)).status, 401);
      assert.equal((await attempt(b, login, 'remembered-at-last', from)).status, 200);
      for (let i = 0; i < 10; i++) assert.equal((await attempt(b, login, `not-it-again-${i}`, from)).status, 401, `failure ${i + 1} after the success`);
      assertThrottled(await attempt(a, login, 'remembered-at-last', from));
    });

    test('concurrent guesses: exactly 10 per pair and 100 per address are checked, the rest are 429', async () => {
      const { a, b } = await started();
      const login = uniqueLogin('raced');
      await register(a, login, 'raced-password');
      const from = clientAddress();
      const onePair = await Promise.all(Array.from({ length: 16 }, (_, i) => attempt(i % 2 === 0 ? a : b, login, `parallel-guess-${i}`, from)));
      assert.equal(onePair.filter((r) => r.status === 401).length, 10);
      for (const r of onePair.filter((x) => x.status !== 401)) assertThrottled(r);

      const sprayer = clientAddress();
      const spray = await Promise.all(
        Array.from({ length: 120 }, (_, i) => attempt(i % 2 === 0 ? a : b, uniqueLogin(`spray${i}`), 'sprayed-password', sprayer)),
      );
      assert.equal(spray.filter((r) => r.status === 401).length, 100);
      for (const r of spray.filter((x) => x.status !== 401)) assertThrottled(r);
      // the address is full for every login, a registered one with its right password too
      assertThrottled(await attempt(a, login, 'raced-password', sprayer));
      // while another address is untouched
      assert.equal((await attempt(b, login, 'raced-password', clientAddress())).status, 200);
    });

    test('many right logins of one user at once from one address are all signed in (checks in flight are waited for, not refused)', async () => {
      const { a } = await started();
      const login = uniqueLogin('tabs');
      await register(a, login, 'many-tabs-password');
      const from = clientAddress();
      const all = await Promise.all(Array.from({ length: 24 }, () => attempt(a, login, 'many-tabs-password', from)));
      assert.deepEqual(
        all.map((r) => r.status),
        all.map(() => 200),
      );
      // none of them counted: ten wrong guesses are still allowed before the lock
      for (let i = 0; i < 10; i++) assert.equal((await attempt(a, login, `after-tabs-${i}`, from)).status, 401);
      assertThrottled(await attempt(a, login, 'after-tabs-10', from));
    });

    test('a client forwarded as a link-local IPv6 address with its zone is counted as any other (it was a 500)', async () => {
      const { b } = await started();
      const login = uniqueLogin('zoned');
      await register(b, login, 'zoned-password');
      const from = `fe80::${++addressCounter}%eth0`;
      for (let i = 0; i < 10; i++) assert.equal((await attempt(b, login, `zoned-guess-${i}`, from)).status, 401, `failure ${i + 1}`);
      assertThrottled(await attempt(b, login, 'zoned-password', from));
      // the same address on another interface is another client
      assert.equal((await attempt(b, login, 'zoned-password', from.replace('%eth0', '%eth1'))).status, 200);
    });

    test('without TRUST_PROXY a forged X-Forwarded-For changes nothing: the client is the socket peer', async () => {
      const { c } = await started();
      const login = uniqueLogin('forger');
      for (let i = 0; i < 10; i++) assert.equal((await attempt(c, login, `forged-${i}`, clientAddress())).status, 401);
      assertThrottled(await attempt(c, login, 'forged-10', clientAddress()));
    });

    test('/openapi.json documents the 429 of the login route with its Retry-After header', async () => {
      const { a } = await started();
      const doc = (await call(a.url, 'GET', '/openapi.json')).json as {
        paths: Record<string, Record<string, { responses: Record<string, { headers?: Record<string, unknown> }> }>>;
      };
      const responses = doc.paths[target.login]?.post?.responses ?? {};
      assert.ok(responses['429'], 'no 429 response');
      assert.ok(responses['429']?.headers?.['Retry-After'], 'no Retry-After header on the 429');
      assert.ok(responses['401']);
    });
  });
}
