import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { kernelOutcomes } from '../../src/kernel/http/outcome.js';
import { SECURITY, type SecurityRequirements } from '../../src/kernel/http/security.js';
import { openApiProblems } from '../support/contract.js';
import { startLedger, type LedgerUnderTest } from '../support/ledger.js';
import { servicesOnFreshDatabase } from '../support/services.js';
import { postgresTarget, type GophermartTarget } from '../gophermart/targets.js';

interface Response {
  description?: string;
  headers?: Record<string, unknown>;
  content?: Record<string, unknown>;
}
interface Operation {
  security?: SecurityRequirements;
  parameters?: unknown[];
  requestBody?: { content?: Record<string, unknown> };
  responses: Record<string, Response>;
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components?: { securitySchemes?: Record<string, unknown> };
}

const accrualDb = servicesOnFreshDatabase('openapi_accrual');
const docs: Record<'gophermart' | 'accrual' | 'orchestrator' | 'shard', Document> = {} as never;
let gophermart: GophermartTarget;
let ledger: LedgerUnderTest;

before(async () => {
  gophermart = await postgresTarget();
  const accrual = await accrualDb.start('accrual');
  ledger = await startLedger(1);
  const read = async (url: string) => (await (await fetch(`${url}/openapi.json`)).json()) as Document;
  docs.gophermart = await read(gophermart.url);
  docs.accrual = await read(accrual.url);
  docs.orchestrator = await read(ledger.url);
  docs.shard = await read(ledger.shards[0]?.url ?? '');
});
after(async () => {
  await gophermart?.close();
  await ledger?.stop();
});

function operations(doc: Document): Array<[string, Operation]> {
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops).map(([method, op]): [string, Operation] => [`${method.toUpperCase()} ${path}`, op]),
  );
}

test('each service publishes a valid OpenAPI 3 document', async () => {
  for (const [service, doc] of Object.entries(docs)) {
    assert.match(doc.openapi, /^3\./, service);
    assert.deepEqual(await openApiProblems(doc), [], `${service}: /openapi.json is not valid OpenAPI 3`);
  }
});

test('every operation states the security it really uses, and the document defines exactly the schemes used', () => {
  const expected = (service: string, name: string): SecurityRequirements => {
    const [, path = ''] = name.split(' ');
    if (service === 'shard') return path.startsWith('/internal/') ? SECURITY.shardToken : [];
    if (path === '/api/admin/deposit') return SECURITY.adminToken;
    if (path.startsWith('/api/user/') && !['/api/user/register', '/api/user/login', '/api/user/logout', '/api/user/session'].includes(path))
      return SECURITY.user;
    return [];
  };
  for (const [service, doc] of Object.entries(docs)) {
    const used = new Set<string>();
    for (const [name, op] of operations(doc)) {
      assert.deepEqual(op.security, expected(service, name), `${service}: ${name}`);
      for (const requirement of op.security ?? []) for (const scheme of Object.keys(requirement)) used.add(scheme);
    }
    assert.deepEqual(Object.keys(doc.components?.securitySchemes ?? {}).sort(), [...used].sort(), `${service}: security schemes`);
  }
  assert.deepEqual(Object.keys(docs.accrual.components?.securitySchemes ?? {}), [], 'the accrual service has no credentials');
});

test('body failures (400, 413, 415) are documented exactly where a body is parsed: every POST, PUT, PATCH and DELETE, never a GET', () => {
  for (const [service, doc] of Object.entries(docs)) {
    for (const [name, op] of operations(doc)) {
      const parsesBody = /^(POST|PUT|PATCH|DELETE) /.test(name);
      for (const status of ['400', '413', '415']) {
        // a proxy's catch-all ('default') covers whatever its upstream or the kernel answers
        if (parsesBody)
          assert.ok(op.responses[status] ?? op.responses.default, `${service}: ${name} does not document ${status}, which a body sent to it can get`);
      }
      if (parsesBody || op.requestBody) continue;
      for (const status of ['413', '415']) assert.equal(op.responses[status], undefined, `${service}: ${name} documents ${status} without a body`);
      // a path alone can be malformed where a route matches more than one path (a prefix route),
      // and any request can be refused for the HTTP message itself (no Host, bad framing); with
      // nothing to read, nothing else may be a 400 there
      const description = (op.responses['400'] as { description?: string } | undefined)?.description ?? '';
      if (op.parameters?.length || name.includes('{')) continue;
      for (const part of description.split(' · '))
        assert.ok(
          part === kernelOutcomes.url_malformed.message || part.startsWith('malformed request: the HTTP message itself'),
          `${service}: ${name} documents a 400 with nothing to read: ${part}`,
        );
    }
  }
});

test('every operation lists the 400 any request can get for the HTTP message itself, beside its own 400s', () => {
  for (const [service, doc] of Object.entries(docs)) {
    for (const [name, op] of operations(doc)) {
      const description = (op.responses['400'] as { description?: string } | undefined)?.description;
      // a proxy's catch-all ('default') covers whatever its upstream or the kernel answers
      if (description === undefined && op.responses.default) continue;
      assert.match(description ?? '', /malformed request: the HTTP message itself.*more than one Host header/, `${service}: ${name}`);
    }
  }
  // a route with refusals of its own keeps them, the kernel's stand beside them
  const upload = docs.gophermart.paths['/api/user/orders']?.post?.responses['400'] as { description?: string } | undefined;
  assert.match(upload?.description ?? '', /^(?!malformed request: the HTTP message itself).+ · .*malformed request: the HTTP message itself/);
});

test('every response says what it means', () => {
  for (const service of ['gophermart', 'accrual', 'orchestrator', 'shard'] as const) {
    for (const [name, op] of operations(docs[service])) {
      for (const [status, response] of Object.entries(op.responses)) {
        assert.ok(response.description && !['Default Response', 'Error'].includes(response.description), `${service}: ${name} ${status} has no description`);
      }
    }
  }
});

test('the upload documents its text/plain body and the JSON alternatives; register and login their token headers, logout its cookie', () => {
  const upload = docs.gophermart.paths['/api/user/orders']?.post;
  assert.deepEqual(Object.keys(upload?.requestBody?.content ?? {}).sort(), ['application/json', 'text/plain']);
  for (const [service, prefix] of [
    ['gophermart', '/api/user'],
    ['orchestrator', '/auth'],
  ] as const) {
    for (const path of [`${prefix}/register`, `${prefix}/login`]) {
      const headers = docs[service].paths[path]?.post?.responses['200']?.headers ?? {};
      assert.deepEqual(Object.keys(headers).sort(), ['Authorization', 'Set-Cookie'], `${service}: ${path}`);
    }
  }
  assert.deepEqual(Object.keys(docs.gophermart.paths['/api/user/logout']?.post?.responses['200']?.headers ?? {}), ['Set-Cookie']);
});

test('the loyalty document describes the /ledger/* proxy to the orchestrator', () => {
  const proxy = docs.gophermart.paths['/ledger/{*}'];
  assert.ok(proxy?.get && proxy.post, 'GET and POST /ledger/{*} are documented');
  assert.match(proxy.post.responses['502']?.description ?? '', /wallet ledger unavailable/);
});

test('every operation that needs the database documents its 503', () => {
  // what answers without the database: the process's own state, the cookie, the app's files, the proxy
  const withoutDatabase =
    /^((GET|HEAD) \/(healthz|metrics|openapi\.json|docs|docs\/\{\*\}|\{\*\})|POST \/api\/user\/logout|(GET|HEAD|DELETE) \/ledger\/session|\w+ \/ledger(\/\{\*\})?)$/;
  for (const [service, doc] of Object.entries(docs)) {
    for (const [name, op] of operations(doc)) {
      if (withoutDatabase.test(name)) continue;
      assert.ok(op.responses['503'], `${service}: ${name} does not document 503`);
    }
  }
});
