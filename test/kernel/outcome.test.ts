import { connect } from 'node:net';
import { gzipSync } from 'node:zlib';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Registry } from 'prom-client';
import { createTokenService } from '../../src/kernel/auth/tokens.js';
import { authGuard } from '../../src/kernel/http/auth.js';
import { HttpError } from '../../src/kernel/http/errors.js';
import { fail, kernelOutcomes, outcomeResponses, outcomes } from '../../src/kernel/http/outcome.js';
import { SECURITY, securedBy } from '../../src/kernel/http/security.js';
import { createHttpServer, type HttpApp } from '../../src/kernel/http/server.js';
import { createLogger } from '../../src/kernel/logger.js';
import { call } from '../support/http.js';

const refusals = outcomes({
  taken: { status: 409, message: 'already taken' },
  too_long: { status: 422, message: 'too long' },
  not_digits: { status: 422, message: 'not digits' },
});

test('fail() throws the outcome as an HttpError; a detail replaces the message, not the status', () => {
  assert.throws(
    () => fail(refusals.taken),
    (err: unknown) => err instanceof HttpError && err.statusCode === 409 && err.message === 'already taken',
  );
  assert.throws(
    () => fail(refusals.too_long, 'login is too long'),
    (err: unknown) => err instanceof HttpError && err.statusCode === 422 && err.message === 'login is too long',
  );
});

test('outcomeResponses: one documented error per status, described by each of its messages once', () => {
  const responses = outcomeResponses(refusals.taken, refusals.too_long, refusals.not_digits, refusals.too_long);
  assert.deepEqual(Object.keys(responses).sort(), ['409', '422']);
  assert.equal(responses[409]?.description, '`already taken`');
  assert.equal(responses[422]?.description, '`too long` · `not digits`');
  assert.equal(responses[422]?.$ref, 'Error');
});

const tokens = createTokenService('outcome-test-secret-0123456789abcdef', 60_000, 'outcome-test');
let app: HttpApp;
let url: string;
before(async () => {
  app = await createHttpServer({ logger: createLogger('test', 'silent'), title: 't', description: 'd', metrics: new Registry(), readiness: async () => {} });
  const operator = securedBy(SECURITY.adminToken, async () => {});
  const Id = Type.Object({ id: Type.Number() });
  const faults = outcomeResponses(kernelOutcomes.unauthorized, kernelOutcomes.internal);
  app.get('/who', { onRequest: authGuard(tokens), schema: { response: { 200: Id, ...faults } } }, async (request) => ({ id: request.userId }));
  app.get('/forgot-guard', { schema: { response: { 200: Id, ...faults } } }, async (request) => ({ id: request.userId }));
  app.post('/refuse', { onRequest: operator, schema: { response: { 200: Type.Object({}), ...outcomeResponses(refusals.taken) } } }, async () =>
    fail(refusals.taken),
  );
  url = await app.listen({ host: '127.0.0.1', port: 0 });
});
after(async () => {
  await app?.close();
});

test('the auth guard hands the route the user id; a token whose subject is not a user id is 401', async () => {
  assert.deepEqual((await call(url, 'GET', '/who', { token: tokens.sign('42') })).json, { id: 42 });
  for (const subject of ['0', '-3', 'abc', '1.5', '9007199254740993']) {
    const r = await call(url, 'GET', '/who', { token: tokens.sign(subject) });
    assert.equal(r.status, 401, subject);
    assert.deepEqual(r.json, { error: 'missing, invalid or expired token' });
  }
  assert.equal((await call(url, 'GET', '/who')).status, 401);
});

test('a route reading userId without the auth guard is a fault (500), never an anonymous user', async () => {
  const r = await call(url, 'GET', '/forgot-guard', { token: tokens.sign('42') });
  assert.equal(r.status, 500);
  assert.deepEqual(r.json, { error: 'internal server error' });
});

test('an outcome becomes its status and {"error"}; the document shows the security of the guard the route runs', async () => {
  const r = await call(url, 'POST', '/refuse');
  assert.equal(r.status, 409);
  assert.deepEqual(r.json, { error: 'already taken' });
  const doc = (await call(url, 'GET', '/openapi.json')).json as {
    paths: Record<string, Record<string, { security?: unknown; responses: Record<string, unknown> }>>;
    components: { securitySchemes?: Record<string, unknown> };
  };
  assert.deepEqual(doc.paths['/who']?.get?.security, SECURITY.user);
  assert.deepEqual(doc.paths['/refuse']?.post?.security, SECURITY.adminToken);
  assert.deepEqual(doc.paths['/healthz']?.get?.security, []);
  // only the schemes some route uses; shardToken is not among them
  assert.deepEqual(Object.keys(doc.components.securitySchemes ?? {}).sort(), ['adminToken', 'bearer', 'cookie']);
  // a POST that expects no body still parses one a client sends: its failures are documented
  // (and every route documents the slow-client and oversized-header answers Node gives, and the
  // 503 of a request that comes while the service stops)
  assert.deepEqual(Object.keys(doc.paths['/refuse']?.post?.responses ?? {}).sort(), ['200', '400', '403', '408', '409', '413', '415', '431', '503']);
  // a GET too: any request may be refused 400 for the message itself (no Host, bad framing),
  // which was answered but listed nowhere
  assert.deepEqual(Object.keys(doc.paths['/healthz']?.get?.responses ?? {}).sort(), ['200', '400', '408', '431', '503']);
  // described once, though a GET and its HEAD twin share the entry the kernel fills in
  assert.equal(
    (doc.paths['/healthz']?.get?.responses as Record<string, { description?: string }> | undefined)?.['503']?.description,
    '`shutting down`: the service is stopping',
  );
  const junk = await call(url, 'POST', '/refuse', { body: '{"a":', headers: { 'content-type': 'application/json' } });
  assert.equal(junk.status, 400);
  // encoding names are case-insensitive, and identity means none
  const shouting = await call(url, 'POST', '/refuse', { body: gzipSync('{"a":'), headers: { 'content-type': 'application/json', 'content-encoding': 'GZIP' } });
  assert.deepEqual([shouting.status, shouting.text], [400, '{"error":"request body is not valid JSON"}'], 'decoded as gzip, then refused as bad JSON');
  const identity = await call(url, 'POST', '/refuse', { body: '{"a":', headers: { 'content-type': 'application/json', 'content-encoding': 'identity' } });
  assert.deepEqual([identity.status, identity.text], [400, '{"error":"request body is not valid JSON"}'], 'read as it is');
  // x-gzip is gzip's old name (RFC 9110 §8.4.1.3)
  const oldName = await call(url, 'POST', '/refuse', {
    body: gzipSync('{"a":'),
    headers: { 'content-type': 'application/json', 'content-encoding': 'x-gzip' },
  });
  assert.deepEqual([oldName.status, oldName.text], [400, '{"error":"request body is not valid JSON"}'], 'decoded as gzip, not refused as an unknown encoding');
});

test('a route that does not exist is answered 404 in the {"error"} shape, gzipped like every other answer when the client accepts it', async () => {
  const missing = await call(url, 'GET', '/no-such-route', { headers: { 'accept-encoding': 'gzip' } });
  assert.deepEqual([missing.status, missing.json], [404, { error: 'not found' }]);
  assert.equal(missing.headers.get('content-encoding'), 'gzip');
  const plain = await call(url, 'GET', '/no-such-route', { headers: { 'accept-encoding': 'gzip;q=0, identity' } });
  assert.deepEqual([plain.status, plain.json, plain.headers.get('content-encoding')], [404, { error: 'not found' }, null], 'gzip refused: sent as it is');
  const undecodable = await call(url, 'GET', '/who%zz', { headers: { 'accept-encoding': 'gzip' } });
  assert.deepEqual([undecodable.status, undecodable.headers.get('content-encoding')], [400, 'gzip']);
});

test('a request with a body to a path or method no route serves is 404 whatever the body, never a 400 for a body nobody reads', async () => {
  const bodies: [string, string | Buffer, Record<string, string>][] = [
    ['a form', 'a=1&b=2', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['text', 'hello', { 'content-type': 'text/plain' }],
    ['bad JSON', '{"a":', { 'content-type': 'application/json' }],
    ['bytes that are not UTF-8', Buffer.from([0xff, 0xfe, 0x00]), { 'content-type': 'application/octet-stream' }],
    ['an unsupported encoding', 'x', { 'content-encoding': 'br' }],
  ];
  for (const [what, body, headers] of bodies) {
    for (const [method, path] of [
      ['POST', '/no-such-route'],
      ['PUT', '/refuse'],
    ] as const) {
      const r = await call(url, method, path, { body, headers });
      assert.deepEqual([r.status, r.json], [404, { error: 'not found' }], `${method} ${path} with ${what}`);
    }
  }
});

test('a request that comes on an open connection after the stop began: 503 `shutting down` in the {"error"} shape, connection closed', async () => {
  const closingApp = await createHttpServer({
    logger: createLogger('test', 'silent'),
    title: 't',
    description: 'd',
    metrics: new Registry(),
    readiness: async () => {},
  });
  let release = (): void => undefined;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  let started = (): void => undefined;
  const running = new Promise<void>((r) => {
    started = r;
  });
  closingApp.get('/slow', { schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => {
    started();
    await gate;
    return { ok: true };
  });
  const address = new URL(await closingApp.listen({ host: '127.0.0.1', port: 0 }));
  const socket = connect(Number(address.port), address.hostname);
  let received = '';
  socket.on('data', (d) => {
    received += d.toString('latin1');
  });
  const ended = new Promise<void>((r) => socket.on('close', () => r()));
  let requests = 0;
  const secondArrived = new Promise<void>((r) => closingApp.server.on('request', () => ++requests === 2 && r()));
  socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
  await running;
  // the stop begins while the first request runs (its busy connection stays open); a second
  // request then comes on that connection
  const closed = closingApp.close();
  await new Promise((r) => setImmediate(r));
  socket.write('GET /slow HTTP/1.1\r\nhost: x\r\n\r\n');
  await secondArrived;
  release();
  await closed;
  await ended;
  const answers = received.split(/(?=HTTP\/1\.1 )/);
  assert.equal(answers.length, 2, received);
  assert.match(answers[0] ?? '', /^HTTP\/1\.1 200 /);
  assert.match(answers[1] ?? '', /^HTTP\/1\.1 503 /);
  assert.match(answers[1] ?? '', /\r\nconnection: close\r\n/i);
  assert.ok(answers[1]?.endsWith('{"error":"shutting down"}'), answers[1]);
});
