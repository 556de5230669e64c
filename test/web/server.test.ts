import assert from 'node:assert/strict';
import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { after, before, test } from 'node:test';
import { LEDGER_MAX_ANSWER_BYTES, LEDGER_TIMEOUT_MS, ledgerRequestCookies, ledgerResponseCookie } from '../../src/gophermart/web.js';
import { call, signUp, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { freePort, startBin, type ServiceProcess } from '../support/process.js';

/** A stand-in orchestrator that records what reaches it and sets its own `token` cookie, as SPEC §3's will. */
interface Seen {
  method: string;
  url: string;
  cookie: string | undefined;
  forwardedFor: string | undefined;
  headers: IncomingHttpHeaders;
  body: string;
}
let upstream: Server;
let upstreamAddress: string;
const seen: Seen[] = [];
let db: FreshDatabase;
let svc: ServiceProcess;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((res) => {
    let b = '';
    req.on('data', (d: Buffer) => (b += d.toString()));
    req.on('end', () => res(b));
  });
}

before(async () => {
  upstream = createServer(async (req, res) => {
    seen.push({
      method: req.method ?? '',
      url: req.url ?? '',
      cookie: req.headers.cookie,
      forwardedFor: req.headers['x-forwarded-for']?.toString(),
      headers: req.headers,
      body: await readBody(req),
    });
    if (req.url === '/auth/login') {
      res.setHeader('set-cookie', ['token=ledger-jwt; Max-Age=86400; Path=/; HttpOnly; SameSite=Lax', 'other=x; Domain=example.org; Path=/auth']);
      res.setHeader('authorization', 'Bearer ledger-jwt');
      res.setHeader('content-type', 'application/json');
      res.end('{"login":"a"}');
      return;
    }
    // an orchestrator that took the request and went silent (frozen, a network cut)
    if (req.url === '/silent') return;
    // an answer bigger than the proxy passes on, sent in pieces as a long history would be
    if (req.url?.startsWith('/huge')) {
      const bytes = Number(new URL(req.url, 'http://x').searchParams.get('bytes'));
      res.setHeader('content-type', 'application/json');
      res.setHeader('set-cookie', 'token=from-huge; Path=/');
      const piece = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const more = (): void => {
        while (sent < bytes) {
          const part = piece.subarray(0, Math.min(piece.length, bytes - sent));
          sent += part.length;
          if (!res.write(part)) return void res.once('drain', more);
        }
        res.end();
      };
      more();
      return;
    }
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ wallet_id: '7', balance: 0, reserved: 0 }));
  });
  const port = await freePort();
  await new Promise<void>((r) => upstream.listen(port, '127.0.0.1', r));
  db = await freshDatabase('gm_web');
  upstreamAddress = `127.0.0.1:${port}`;
  svc = await startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9', ORCHESTRATOR_ADDRESS: upstreamAddress });
});
after(async () => {
  await svc?.stop();
  await new Promise((r) => upstream?.close(r));
  await db?.drop();
});

test('cookie mapping: only ledger_* cookies go upstream, renamed back; upstream cookies come back renamed and scoped to /ledger', () => {
  assert.equal(ledgerRequestCookies('token=loyalty; ledger_token=abc; theme=dark'), 'token=abc');
  assert.equal(ledgerRequestCookies('token=loyalty'), undefined);
  assert.equal(ledgerRequestCookies(undefined), undefined);
  assert.equal(
    ledgerResponseCookie('token=abc; Max-Age=60; Path=/; HttpOnly; SameSite=Lax'),
    'ledger_token=abc; Path=/ledger; Max-Age=60; HttpOnly; SameSite=Lax',
  );
  assert.equal(
    ledgerResponseCookie('token=; Domain=x.org; path=/api; Expires=Thu, 01 Jan 1970 00:00:00 GMT'),
    'ledger_token=; Path=/ledger; Expires=Thu, 01 Jan 1970 00:00:00 GMT',
  );
});

test('the proxy renames the ledger token both ways, never forwards the loyalty token, hides the bearer header', async () => {
  const login = await call(svc.url, 'POST', '/ledger/auth/login', { body: { login: 'a', password: 'b' }, headers: { cookie: 'token=loyalty-secret' } });
  assert.equal(login.status, 200);
  assert.deepEqual(login.json, { login: 'a' });
  const cookies = login.headers.getSetCookie();
  assert.ok(cookies.includes('ledger_token=ledger-jwt; Path=/ledger; Max-Age=86400; HttpOnly; SameSite=Lax'), cookies.join(' | '));
  assert.ok(cookies.includes('ledger_other=x; Path=/ledger'), cookies.join(' | '));
  assert.ok(!cookies.some((c) => c.startsWith('token=')), 'the loyalty cookie name is never set through the proxy');
  assert.equal(login.headers.get('authorization'), null);
  const first = seen.at(-1);
  assert.equal(first?.url, '/auth/login');
  assert.equal(first?.cookie, undefined, 'the loyalty token did not travel to the ledger');
  assert.deepEqual(JSON.parse(first?.body ?? ''), { login: 'a', password: 'b' });
  // the orchestrator's login throttle sees the browser's address, not a forged one
  const forged = await call(svc.url, 'POST', '/ledger/auth/login', { body: { login: 'a', password: 'b' }, headers: { 'x-forwarded-for': '203.0.113.9' } });
  assert.equal(forged.status, 200);
  assert.equal(first?.forwardedFor, '127.0.0.1');
  assert.equal(seen.at(-1)?.forwardedFor, '127.0.0.1');

  const balance = await call(svc.url, 'GET', '/ledger/api/user/balance/7', { headers: { cookie: 'token=loyalty-secret; ledger_token=ledger-jwt' } });
  assert.equal(balance.status, 200);
  assert.equal(seen.at(-1)?.url, '/api/user/balance/7');
  assert.equal(seen.at(-1)?.cookie, 'token=ledger-jwt');
});

test("the proxy passes no header of the client's own connection on: Expect, Keep-Alive, Upgrade and those Connection names reach nobody", async () => {
  const cases: Array<Record<string, string>> = [
    { expect: '100-continue' },
    { 'keep-alive': 'timeout=5' },
    { connection: 'Upgrade, X-Hop', upgrade: 'h2c', 'x-hop': 'mine' },
  ];
  for (const headers of cases) {
    const body = JSON.stringify({ login: 'a', password: 'b' });
    const reply = await new Promise<{ status: number; text: string }>((resolve, reject) => {
      const req = httpRequest(`${svc.url}/ledger/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
      });
      req.on('error', reject);
      req.end(body);
    });
    assert.equal(reply.status, 200, `${JSON.stringify(headers)}: ${reply.text}`);
    assert.deepEqual(JSON.parse(reply.text), { login: 'a' });
    assert.equal(seen.at(-1)?.headers['x-hop'], undefined, 'a header named in Connection stays on its hop');
    assert.equal(seen.at(-1)?.headers.expect, undefined);
    assert.equal(seen.at(-1)?.headers.upgrade, undefined);
  }
});

test('ledger session endpoints are served locally: presence of the cookie, and sign-out clears it at Path=/ledger', async () => {
  const before = seen.length;
  assert.deepEqual((await call(svc.url, 'GET', '/ledger/session')).json, { connected: false });
  assert.deepEqual((await call(svc.url, 'GET', '/ledger/session', { headers: { cookie: 'ledger_token=x' } })).json, { connected: true });
  const out = await call(svc.url, 'DELETE', '/ledger/session', { headers: { cookie: 'ledger_token=x' } });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie') ?? '', /^ledger_token=; Max-Age=0; Path=\/ledger;.*HttpOnly/);
  assert.equal(seen.length, before, 'nothing reached the orchestrator');
});

test('an unreachable orchestrator is a 502 with words, not a hang or a 500', async () => {
  const port = await freePort();
  const lonely = await startBin('gophermart', { DATABASE_URI: db.url, ORCHESTRATOR_ADDRESS: `http://127.0.0.1:${port}` });
  try {
    const r = await call(lonely.url, 'GET', '/ledger/api/user/balance/1');
    assert.equal(r.status, 502);
    assert.deepEqual(r.json, { error: 'wallet ledger unavailable' });
  } finally {
    await lonely.stop();
  }
});

test('a silent orchestrator is a 502 once the proxy gives up on it, not a request held for minutes', async () => {
  const started = performance.now();
  const r = await call(svc.url, 'GET', '/ledger/silent', { contract: false });
  const ms = performance.now() - started;
  assert.equal(r.status, 502, r.text);
  assert.deepEqual(r.json, { error: 'wallet ledger unavailable' });
  assert.ok(ms >= LEDGER_TIMEOUT_MS - 500 && ms < LEDGER_TIMEOUT_MS + 5_000, `answered after ${Math.round(ms)} ms`);
});

test('an orchestrator answer over the limit is a 502 with none of its headers; one under it passes whole', async () => {
  const big = await call(svc.url, 'GET', `/ledger/huge?bytes=${LEDGER_MAX_ANSWER_BYTES + 1}`, { contract: false });
  assert.equal(big.status, 502, big.text.slice(0, 200));
  assert.deepEqual(big.json, { error: 'wallet ledger unavailable' });
  assert.equal(big.headers.get('set-cookie'), null, 'no cookie of the refused answer');
  const fits = await call(svc.url, 'GET', `/ledger/huge?bytes=${1024 * 1024}`, { contract: false, headers: { 'accept-encoding': 'identity' } });
  assert.equal(fits.status, 200);
  assert.equal(fits.text.length, 1024 * 1024);
  assert.match(fits.headers.get('set-cookie') ?? '', /^ledger_token=from-huge; Path=\/ledger/);
});

test('the proxy passes on no client-written addressing header: its own X-Forwarded-For/-Host/-Proto tell the orchestrator who asks', async () => {
  const spoofed = {
    'x-forwarded-for': '203.0.113.9',
    forwarded: 'for=203.0.113.9',
    'x-forwarded-host': 'evil.example',
    'x-forwarded-proto': 'https',
    'x-real-ip': '203.0.113.9',
    'proxy-authorization': 'Basic c2VjcmV0',
  };
  assert.equal((await call(svc.url, 'GET', '/ledger/api/user/balance/7', { headers: spoofed })).status, 200);
  const headers = seen.at(-1)?.headers ?? {};
  // the proxy's own view: the peer, and the host and scheme the request came to
  assert.equal(headers['x-forwarded-for'], '127.0.0.1');
  assert.equal(headers['x-forwarded-host'], new URL(svc.url).host);
  assert.equal(headers['x-forwarded-proto'], 'http');
  for (const name of ['forwarded', 'x-real-ip', 'proxy-authorization']) assert.equal(headers[name], undefined, name);
  // a same-origin browser write: checked here, then passed on without the Origin the orchestrator
  // would compare with its own address
  const origin = { origin: svc.url, 'content-type': 'application/json' };
  assert.equal((await call(svc.url, 'POST', '/ledger/auth/login', { body: '{"login":"a","password":"b"}', headers: origin, contract: false })).status, 200);
  assert.equal(seen.at(-1)?.headers.origin, undefined);
});

test('a state-changing request a browser sends for another origin is refused; same-origin ones and non-browser clients are not', async () => {
  const refused = { error: 'cross-origin request refused' };
  const login = uniqueLogin('csrf');
  const token = await signUp(svc.url, login, 'csrf-password');
  const cookie = `token=${token}`;
  const host = new URL(svc.url).host;
  // a form on any site signing the visitor in as the attacker: text/plain carries the JSON
  const form = { 'content-type': 'text/plain', 'sec-fetch-site': 'cross-site', origin: 'https://evil.example' };
  const signIn = await call(svc.url, 'POST', '/api/user/login', { body: `{"login":"${login}","password":"csrf-password","x":"="}`, headers: form });
  assert.deepEqual([signIn.status, signIn.json], [403, refused]);
  assert.equal(signIn.headers.get('set-cookie'), null, 'no session handed to the visitor');
  // a sibling subdomain is the same site (the Lax cookie goes along) but not the same origin
  const upload = (headers: Record<string, string>) =>
    call(svc.url, 'POST', '/api/user/orders', { body: '79927398713', headers: { 'content-type': 'text/plain', cookie, ...headers } });
  assert.equal((await upload({ 'sec-fetch-site': 'same-site' })).status, 403);
  // a browser without Sec-Fetch-Site: its Origin decides
  assert.equal((await upload({ origin: 'https://shop.example' })).status, 403);
  assert.equal((await upload({ origin: 'null' })).status, 403);
  assert.equal((await call(svc.url, 'GET', '/api/user/orders', { token })).status, 204, 'nothing was uploaded');
  // through the proxy too, before anything reaches the orchestrator
  const before = seen.length;
  const ledger = await call(svc.url, 'POST', '/ledger/auth/login', { body: '{"login":"a","password":"b"}', headers: form, contract: false });
  assert.deepEqual([ledger.status, ledger.json], [403, refused]);
  assert.equal(seen.length, before);
  // the app's own requests, reads from anywhere, and clients that are not browsers are served
  assert.equal((await upload({ 'sec-fetch-site': 'same-origin', origin: svc.url })).status, 202);
  assert.equal((await upload({ origin: `http://${host}` })).status, 200);
  assert.equal((await upload({})).status, 200);
  assert.equal((await call(svc.url, 'GET', '/api/user/balance', { headers: { cookie, 'sec-fetch-site': 'cross-site' } })).status, 200);
});

test('behind a TLS proxy it trusts, the session cookies are Secure; reached over plain HTTP, they are not', async () => {
  const behindTls = await startBin('gophermart', { DATABASE_URI: db.url, ORCHESTRATOR_ADDRESS: upstreamAddress, TRUST_PROXY: 'loopback' });
  try {
    const login = uniqueLogin('tls');
    const over = (proto: string) => ({ 'x-forwarded-proto': proto });
    const register = await call(behindTls.url, 'POST', '/api/user/register', { body: { login, password: 'tls-password' }, headers: over('https') });
    assert.equal(register.status, 200);
    assert.match(register.headers.get('set-cookie') ?? '', /^token=.*; Secure/);
    const plain = await call(behindTls.url, 'POST', '/api/user/login', { body: { login, password: 'tls-password' }, headers: over('http') });
    assert.equal(plain.status, 200);
    assert.doesNotMatch(plain.headers.get('set-cookie') ?? '', /Secure/);
    assert.match((await call(behindTls.url, 'POST', '/api/user/logout', { headers: over('https') })).headers.get('set-cookie') ?? '', /^token=;.*Secure/);
    // the orchestrator speaks plain HTTP behind us; the browser reached us over TLS
    const ledger = await call(behindTls.url, 'POST', '/ledger/auth/login', { body: { login: 'a', password: 'b' }, headers: over('https') });
    assert.match(ledger.headers.getSetCookie().find((c) => c.startsWith('ledger_token=')) ?? '', /; Secure$/);
    assert.match((await call(behindTls.url, 'DELETE', '/ledger/session', { headers: over('https') })).headers.get('set-cookie') ?? '', /Secure/);
  } finally {
    await behindTls.stop();
  }
});

test('the app: index.html for app paths, JSON 404 for API-like misses, long-lived hashed assets', async () => {
  for (const path of ['/', '/signin', '/orders', '/orders/', '/balance', '/withdraw', '/wallets']) {
    const r = await call(svc.url, 'GET', path);
    assert.equal(r.status, 200, path);
    assert.match(r.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(r.text, /<div id="app">/);
    assert.equal(r.headers.get('cache-control'), 'no-cache');
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
  }
  // an unknown page is a 404: for a browser the app (it shows "page not found"), for anything else the API's JSON
  const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
  for (const path of ['/some/deep/link', '/order', '/wallets/42']) {
    const page = await call(svc.url, 'GET', path, { headers: browser });
    assert.equal(page.status, 404, path);
    assert.match(page.headers.get('content-type') ?? '', /^text\/html/, path);
    assert.match(page.text, /<div id="app">/, path);
    const api = await call(svc.url, 'GET', path);
    assert.equal(api.status, 404, path);
    assert.deepEqual(api.json, { error: 'not found' }, path);
  }
  // a Range does not make a page a 206 (or a 416): the route serves the whole page, 200 or 404
  for (const [path, status] of [
    ['/orders', 200],
    ['/some/deep/link', 404],
  ] as const) {
    for (const range of ['bytes=0-9', 'bytes=99999-']) {
      const r = await call(svc.url, 'GET', path, { headers: { ...browser, range } });
      assert.equal(r.status, status, `${path} ${range}`);
      assert.match(r.text, /<div id="app">/, `${path} ${range}`);
    }
  }
  assert.equal((await call(svc.url, 'GET', '/robots.txt', { headers: browser })).status, 404);
  assert.deepEqual((await call(svc.url, 'GET', '/robots.txt', { headers: browser })).json, { error: 'not found' }, 'a missing file is never the page');
  for (const path of ['/api/nope', '/api/user/nope', '/assets/missing.js', '/docs/missing', '/robots.txt', '/img/logo.png']) {
    const r = await call(svc.url, 'GET', path);
    assert.equal(r.status, 404, path);
    assert.deepEqual(r.json, { error: 'not found' }, path);
  }
  const asset = /src="(\/assets\/[^"]+\.js)"/.exec((await call(svc.url, 'GET', '/')).text)?.[1];
  assert.ok(asset);
  const js = await call(svc.url, 'GET', asset, { headers: { 'accept-encoding': 'gzip' } });
  assert.equal(js.status, 200);
  assert.match(js.headers.get('content-type') ?? '', /javascript/);
  assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
  assert.equal((await call(svc.url, 'POST', '/orders')).status, 404, 'only GET falls back to the app');
  assert.equal((await call(svc.url, 'GET', '/healthz')).status, 200);
});

test('GET /api/user/me names the cookie holder; POST /api/user/logout clears the cookie', async () => {
  assert.equal((await call(svc.url, 'GET', '/api/user/me')).status, 401);
  assert.equal((await call(svc.url, 'GET', '/api/user/me', { headers: { cookie: 'token=forged.jwt.value' } })).status, 401);
  const login = uniqueLogin('me');
  const token = await signUp(svc.url, login);
  const me = await call(svc.url, 'GET', '/api/user/me', { headers: { cookie: `token=${token}` } });
  assert.equal(me.status, 200);
  assert.match(me.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(me.json, { login });
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/me', { token })).json, { login });
  const out = await call(svc.url, 'POST', '/api/user/logout', { headers: { cookie: `token=${token}` } });
  assert.equal(out.status, 200);
  assert.match(out.headers.get('set-cookie') ?? '', /^token=; Max-Age=0; Path=\/;.*HttpOnly/);
  assert.equal((await call(svc.url, 'POST', '/api/user/logout')).status, 200, 'signing out twice is fine');
  const spec = (await call(svc.url, 'GET', '/openapi.json')).json as { paths: Record<string, unknown> };
  assert.ok(spec.paths['/api/user/me'] && spec.paths['/api/user/logout'], 'documented in OpenAPI');
});

test('/favicon.ico is a real icon (not the HTML page), and the page links it', async () => {
  const ico = await fetch(`${svc.url}/favicon.ico`);
  assert.equal(ico.status, 200);
  assert.match(ico.headers.get('content-type') ?? '', /^image\/(x-icon|vnd\.microsoft\.icon)/);
  const bytes = Buffer.from(await ico.arrayBuffer());
  assert.deepEqual([...bytes.subarray(0, 4)], [0, 0, 1, 0], 'ICO header');
  assert.ok(bytes.readUInt16LE(4) >= 1, 'at least one image');
  assert.match(ico.headers.get('cache-control') ?? '', /max-age=\d+/);
  const svg = await call(svc.url, 'GET', '/favicon.svg');
  assert.equal(svg.status, 200);
  assert.match(svg.headers.get('content-type') ?? '', /^image\/svg\+xml/);
  const page = (await call(svc.url, 'GET', '/')).text;
  assert.match(page, /<link rel="icon" href="\/favicon\.svg"/);
  assert.match(page, /<link rel="icon" href="\/favicon\.ico"/);
});

test('GET /api/user/session is 200 whether or not the caller is signed in (no 401 on a signed-out page load)', async () => {
  const out = await call(svc.url, 'GET', '/api/user/session');
  assert.equal(out.status, 200);
  assert.match(out.headers.get('content-type') ?? '', /^application\/json/);
  assert.deepEqual(out.json, { signed_in: false });
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/session', { headers: { cookie: 'token=forged.jwt.value' } })).json, { signed_in: false });
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/session', { headers: { authorization: 'Bearer nonsense' } })).json, { signed_in: false });
  const login = uniqueLogin('session');
  const token = await signUp(svc.url, login);
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/session', { headers: { cookie: `token=${token}` } })).json, { signed_in: true, login });
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/session', { token })).json, { signed_in: true, login });
  // a header that is there decides alone, as on every protected route
  assert.deepEqual((await call(svc.url, 'GET', '/api/user/session', { headers: { authorization: 'Bearer a.b.c', cookie: `token=${token}` } })).json, {
    signed_in: false,
  });
  const spec = (await call(svc.url, 'GET', '/openapi.json')).json as { paths: Record<string, unknown> };
  assert.ok(spec.paths['/api/user/session'], 'documented in OpenAPI');
});
