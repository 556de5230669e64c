import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { call } from '../support/http.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { ROOT, type ServiceProcess, startBin } from '../support/process.js';

/** Packages imported on first use (kernel/http/lazy-app.ts, accrual-client.ts), never at start-up. */
const SWAGGER_UI = ['@fastify/swagger-ui', '@fastify/static'];
const PROXY = ['@fastify/http-proxy', '@fastify/reply-from', 'undici', 'ws'];

let db: FreshDatabase;
let server: ServiceProcess;

before(async () => {
  db = await freshDatabase('gm_lazy');
  server = await startBin('gophermart', {
    DATABASE_URI: db.url,
    // nothing listens there: the proxy answers 502, which still needs the proxy loaded
    ORCHESTRATOR_ADDRESS: 'http://127.0.0.1:9',
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    NODE_OPTIONS: `--require ${resolve(ROOT, 'test/support/loaded-packages.cjs')}`,
  });
});

after(async () => {
  await server?.stop();
  await db?.drop();
});

interface ProcessReport {
  packages: string[];
  execArgv: string[];
}

/** What the process has loaded and its node flags: asked by signal, answered on its stderr (loaded-packages.cjs). */
function report(): Promise<ProcessReport> {
  const stderr = server.proc.stderr;
  assert.ok(stderr);
  return new Promise((resolveReport) => {
    let seen = '';
    const onData = (chunk: Buffer): void => {
      seen += chunk.toString();
      const line = /loaded-packages (\{.*\})\n/.exec(seen);
      if (!line?.[1]) return;
      stderr.off('data', onData);
      resolveReport(JSON.parse(line[1]) as ProcessReport);
    };
    stderr.on('data', onData);
    server.proc.kill('SIGUSR2');
  });
}

async function loadedPackages(): Promise<string[]> {
  return (await report()).packages;
}

function assertNone(loaded: string[], packages: string[], when: string): void {
  for (const name of packages) assert.ok(!loaded.includes(name), `${name} is loaded ${when}`);
}

test('Swagger UI, the web app files and the /ledger proxy load on first use, and then serve', async () => {
  const atStart = await loadedPackages();
  assert.ok(atStart.includes('fastify'), `the probe sees the process's packages: ${atStart.join(', ')}`);
  assertNone(atStart, [...SWAGGER_UI, ...PROXY], 'before any request');

  // the API itself needs none of them
  assert.equal((await call(server.url, 'GET', '/healthz')).status, 200);
  assert.equal((await fetch(`${server.url}/openapi.json`)).status, 200);
  assertNone(await loadedPackages(), [...SWAGGER_UI, ...PROXY], 'after API requests');

  const docs = await fetch(`${server.url}/docs`);
  assert.equal(docs.status, 200);
  assert.match(await docs.text(), /swagger-initializer\.js/);
  const spec = (await (await fetch(`${server.url}/docs/json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(spec.paths['/api/user/balance'], '/docs/json is the service document');
  assert.equal((await fetch(`${server.url}/docs/static/swagger-ui.css`)).status, 200);
  const afterDocs = await loadedPackages();
  assert.ok(afterDocs.includes('@fastify/swagger-ui'), 'Swagger UI is loaded once /docs is asked');
  assertNone(afterDocs, PROXY, 'after /docs');

  const page = await fetch(`${server.url}/orders`, { headers: { accept: 'text/html' } });
  assert.equal(page.status, 200);
  assert.equal(page.headers.get('x-frame-options'), 'DENY');
  assert.match(await page.text(), /<div id="app">|<script/);

  const proxied = await fetch(`${server.url}/ledger/api/user/wallets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
  assert.equal(proxied.status, 502);
  assert.deepEqual(await proxied.json(), { error: 'wallet ledger unavailable' });
  const afterProxy = await loadedPackages();
  assert.ok(afterProxy.includes('@fastify/http-proxy') && afterProxy.includes('undici'), 'the proxy is loaded once /ledger is asked');
});

test('bin/gophermart runs with the young generation capped at 2 × 4 MB (its shebang)', async () => {
  assert.ok((await report()).execArgv.includes('--max-semi-space-size=4'));
});
