import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, test } from 'node:test';
import { call, uniqueLogin } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { startBin } from '../support/process.js';

let db: FreshDatabase;
before(async () => {
  db = await freshDatabase('gm_logs');
});
after(async () => {
  await db?.drop();
});

test('logs: JSON lines, one per request with method, path, status and latency; no password, token or secret', async () => {
  const secret = 'jwt-secret-that-must-never-be-logged-0123456789';
  const svc = await startBin('gophermart', { DATABASE_URI: db.url, LOG_LEVEL: 'info', JWT_SECRET: secret, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9' });
  const password = 'Pa55word-never-logged';
  const login = uniqueLogin('logs');
  const reg = await call(svc.url, 'POST', '/api/user/register', { body: { login, password } });
  const token = (reg.headers.get('authorization') ?? '').replace('Bearer ', '');
  assert.ok(token.length > 20);
  await call(svc.url, 'POST', '/api/user/login', { body: { login, password } });
  await call(svc.url, 'POST', '/api/user/login', { body: { login, password: `${password}-wrong` } });
  await call(svc.url, 'GET', '/api/user/balance', { token });
  await call(svc.url, 'GET', '/api/user/balance', { headers: { cookie: `token=${token}` } });
  await call(svc.url, 'POST', '/api/user/orders', { token, body: 'not a number' });
  assert.equal(await svc.stop('SIGTERM'), 0);

  const lines = svc
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '');
  const entries = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  // health polls of the start-up wait and the contract check's read of the document are not the test's requests
  const requests = entries.filter((e) => e.msg === 'request' && e.path !== '/healthz' && e.path !== '/openapi.json');
  assert.deepEqual(
    requests.map((e) => `${e.method} ${e.path} ${e.status}`),
    [
      'POST /api/user/register 200',
      'POST /api/user/login 200',
      'POST /api/user/login 401',
      'GET /api/user/balance 200',
      'GET /api/user/balance 200',
      'POST /api/user/orders 422',
    ],
  );
  for (const e of requests) assert.equal(typeof e.ms, 'number');
  const all = lines.join('\n');
  for (const forbidden of [password, token, token.split('.')[2] ?? token, secret]) assert.equal(all.includes(forbidden), false, 'a credential reached the log');
});

test('logs: every request gets its line at info, health probes and metrics scrapes included; none at warn', async () => {
  const linesAt = async (level: string): Promise<string[]> => {
    const svc = await startBin('gophermart', { DATABASE_URI: db.url, LOG_LEVEL: level, ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9' });
    for (const path of ['/healthz', '/readyz', '/metrics', '/api/user/balance']) await call(svc.url, 'GET', path);
    assert.equal(await svc.stop('SIGTERM'), 0);
    return svc
      .output()
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e.msg === 'request')
      .map((e) => `${e.method} ${e.path} ${e.status}`);
  };
  const info = await linesAt('info');
  for (const line of ['GET /healthz 200', 'GET /readyz 200', 'GET /metrics 200', 'GET /api/user/balance 401'])
    assert.ok(info.includes(line), `${line}: ${info.join(', ')}`);
  assert.deepEqual(await linesAt('warn'), [], 'no request line at warn');
});

test('logs: LOG_FORMAT=pretty gives readable lines (time, level, service: message), not JSON', async () => {
  const svc = await startBin('gophermart', { DATABASE_URI: db.url, LOG_LEVEL: 'info', LOG_FORMAT: 'pretty', ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9' });
  await call(svc.url, 'GET', '/api/user/balance');
  assert.equal(await svc.stop('SIGTERM'), 0);
  const out = svc.stdout();
  assert.match(out, /^\[\d\d:\d\d:\d\d\] INFO: gophermart: gophermart listening\n {4}url: "http:/m);
  assert.match(out, /^\[\d\d:\d\d:\d\d\] INFO: gophermart: request GET \/api\/user\/balance 401 \([\d.]+ ms\)$/m);
  assert.doesNotMatch(out, /^\{/m, 'no JSON line');
});

test('logs and metrics: answers given before any route runs (a malformed path, a 408, a 431) get their line and their count', async () => {
  const svc = await startBin('gophermart', {
    DATABASE_URI: db.url,
    LOG_LEVEL: 'info',
    HTTP_HEADERS_TIMEOUT: '1s',
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
  });
  const { hostname, port } = new URL(svc.url);
  /** Writes `text` on a fresh connection and returns the status line the server answers. */
  const raw = (text: string): Promise<string> =>
    new Promise((resolve, reject) => {
      const socket = connect(Number(port), hostname, () => socket.write(text));
      let got = '';
      socket.on('data', (d: Buffer) => (got += d.toString()));
      socket.on('close', () => resolve(got.split('\r\n')[0] ?? ''));
      socket.on('error', reject);
    });
  assert.equal((await call(svc.url, 'GET', '/api/user/orders/%ZZ')).status, 400);
  assert.match(await raw('GET /api/user/balance HTTP/1.1\r\nHost: x\r\n'), /^HTTP\/1\.1 408/); // headers never finished
  assert.match(await raw(`GET /api/user/balance HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`), /^HTTP\/1\.1 431/);
  const metrics = (await call(svc.url, 'GET', '/metrics')).text;
  for (const status of ['400', '408', '431']) {
    assert.match(metrics, new RegExp(`http_requests_total\\{[^}]*route="unmatched"[^}]*status="${status}"[^}]*\\} 1`), `no count for the ${status}`);
  }
  assert.equal(await svc.stop('SIGTERM'), 0);
  const unrouted = svc
    .output()
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .filter((e) => e.msg === 'request' && e.route === 'unmatched');
  assert.deepEqual(
    unrouted.map((e) => `${e.method} ${e.path} ${e.status}`),
    ['GET /api/user/orders/%ZZ 400', '- - 408', '- - 431'],
  );
});
