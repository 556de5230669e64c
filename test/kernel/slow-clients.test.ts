import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import { request as httpRequest } from 'node:http';
import { LINGER_MS } from '../../src/kernel/http/linger.js';
import { openRaw } from '../support/raw-socket.js';
import type { ServiceProcess } from '../support/process.js';
import { servicesOnFreshDatabase } from '../support/services.js';

// Every service on its defaults (10 s for headers, 30 s per request, 5 s idle keep-alive), over raw
// TCP from this process: what a slow or hostile client sees.
const env = servicesOnFreshDatabase('slow_clients', { SHARD_TOKEN: 'slow-clients-shard-token' });
let started: Promise<Record<string, ServiceProcess>> | undefined;

/** The four services, started by the first test that needs them (the database exists only then). */
function everyService(): Promise<Record<string, ServiceProcess>> {
  started ??= (async () => ({
    gophermart: await env.start('gophermart', { ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9', POLL_CONCURRENCY: '0' }),
    accrual: await env.start('accrual'),
    shard: await env.start('shard'),
    orchestrator: await env.start('orchestrator', { SHARD_ADDRESSES: '127.0.0.1:9' }),
  }))();
  return started;
}

function assertTimedOut(data: string): void {
  assert.match(data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.match(data, /\r\ncontent-type: application\/json\r\n/i);
  assert.equal(data.slice(data.indexOf('\r\n\r\n') + 4), '{"error":"request timeout"}');
}

test('a client sending its headers one byte a second is answered 408 and cut off at the 10 s default, on every service', async (t) => {
  const services = await everyService();
  const slow = await Promise.all(
    Object.entries(services).map(async ([name, svc]) => {
      const conn = await openRaw(svc.url);
      conn.dribble(`GET /healthz HTTP/1.1\r\nHost: ${name}\r\nX-Slow: ${'a'.repeat(60)}`, 1000);
      return { name, conn };
    }),
  );
  // a client that connects and says nothing is held to the same limit
  const silent = await openRaw(services.gophermart!.url);
  for (const { name, conn } of [...slow, { name: 'silent', conn: silent }]) {
    const { afterMs, data } = await conn.closed;
    t.diagnostic(`${name}: cut off after ${Math.round(afterMs)} ms`);
    assert.ok(afterMs >= 9_000, `${name}: cut off after ${afterMs} ms, before the 10 s limit`);
    // the limit is checked four times a second; the rest is slack for a loaded machine
    assert.ok(afterMs < 13_000, `${name}: cut off only after ${afterMs} ms`);
    assertTimedOut(data);
  }
});

test('an idle keep-alive connection is closed a few seconds after its last answer, on every service', async (t) => {
  const services = await everyService();
  await Promise.all(
    Object.entries(services).map(async ([name, svc]) => {
      const conn = await openRaw(svc.url);
      conn.socket.write(`GET /healthz HTTP/1.1\r\nHost: ${name}\r\n\r\n`);
      await conn.waitFor('{"status":"ok"}', 10_000);
      const answeredAt = performance.now();
      assert.match(conn.received(), /^HTTP\/1\.1 200 /);
      assert.match(conn.received(), /\r\nkeep-alive: timeout=5\r\n/i);
      await conn.closed;
      const idleMs = performance.now() - answeredAt;
      t.diagnostic(`${name}: idle connection closed after ${Math.round(idleMs)} ms`);
      assert.ok(idleMs >= 4_000, `${name}: idle connection closed after ${idleMs} ms`);
      assert.ok(idleMs < 10_000, `${name}: idle connection kept ${idleMs} ms`);
    }),
  );
});

test('a body dribbled slower than HTTP_REQUEST_TIMEOUT allows is answered 408 and cut off; a request within the limits is served', async (t) => {
  const svc = await env.start('gophermart', {
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    POLL_CONCURRENCY: '0',
    HTTP_HEADERS_TIMEOUT: '2s',
    HTTP_REQUEST_TIMEOUT: '3s',
  });
  const head = 'POST /api/user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n';

  const dribbler = await openRaw(svc.url);
  dribbler.socket.write(head);
  dribbler.dribble(' ', 200);
  const { afterMs, data } = await dribbler.closed;
  t.diagnostic(`dribbled body cut off after ${Math.round(afterMs)} ms`);
  assert.ok(afterMs >= 2_800, `cut off after ${afterMs} ms, before the 3 s limit`);
  assert.ok(afterMs < 7_000, `cut off only after ${afterMs} ms`);
  assertTimedOut(data);

  // refused before its body arrived (no token): one answer, and the connection ends with it, so
  // the request timeout never answers the same request a second time
  const refused = await openRaw(svc.url);
  refused.socket.write('POST /api/user/orders HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 50\r\n\r\n');
  refused.dribble('1', 200);
  const early = await refused.closed;
  assert.equal(early.data.match(/HTTP\/1\.1 \d{3}/g)?.join(), 'HTTP/1.1 401', 'one answer only');
  assert.match(early.data, /\r\nconnection: close\r\n/i);
  // the close lingers (reading the rest of the body) for LINGER_MS, never until the request timeout
  assert.ok(early.afterMs < LINGER_MS + 800, `closed after ${Math.round(early.afterMs)} ms`);

  // headers over one second and the body over another stay within 2 s and 3 s: answered normally
  const patient = await openRaw(svc.url);
  const body = JSON.stringify({ login: 'patient-client', password: 'patient-password' });
  const request = `POST /api/user/register HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`;
  const half = Math.floor(request.length / 2);
  patient.socket.write(request.slice(0, half));
  await new Promise((r) => setTimeout(r, 1000));
  patient.socket.write(request.slice(half));
  patient.socket.write(body.slice(0, 10));
  await new Promise((r) => setTimeout(r, 1000));
  patient.socket.write(body.slice(10));
  const answer = await patient.closed;
  assert.match(answer.data, /^HTTP\/1\.1 200 /);
});

test('a GET answered while the body it carries still trickles in gets that one answer, with Connection: close, and no 408 after it', async () => {
  const svc = await env.start('gophermart', {
    ACCRUAL_SYSTEM_ADDRESS: 'http://127.0.0.1:9',
    POLL_CONCURRENCY: '0',
    HTTP_HEADERS_TIMEOUT: '1s',
    HTTP_REQUEST_TIMEOUT: '1500ms',
  });
  const conn = await openRaw(svc.url);
  conn.socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 40\r\n\r\n');
  // a byte every 100 ms: the body is still arriving when the request timeout comes
  conn.dribble('x', 100);
  const { data } = await conn.closed;
  assert.equal(data.match(/HTTP\/1\.1 \d{3}/g)?.join(), 'HTTP/1.1 200', 'one answer only');
  assert.match(data, /\r\nconnection: close\r\n/i);
});

/** POSTs `size` bytes of body to `path` the way most HTTP clients do (writing it all before reading); the answer's status, or the error met. */
function sendLargeBody(url: string, path: string, size: number): Promise<number | string> {
  return new Promise((resolve) => {
    const req = httpRequest(`${url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': size } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    const chunk = Buffer.alloc(64 * 1024, 0x20);
    let sent = 0;
    const write = (): void => {
      while (sent < size) {
        const n = Math.min(chunk.length, size - sent);
        sent += n;
        if (!req.write(chunk.subarray(0, n))) return void req.once('drain', write);
      }
      req.end();
    };
    write();
  });
}

test('a body refused for its size or for a missing token is answered (413, 401), not reset under the client still sending it', async () => {
  const services = await everyService();
  const gophermart = services.gophermart!.url;
  const statuses: Array<number | string> = [];
  for (let i = 0; i < 5; i++) {
    statuses.push(await sendLargeBody(gophermart, '/api/user/register', 10 * 1024 * 1024));
    statuses.push(await sendLargeBody(gophermart, '/api/user/orders', 2 * 1024 * 1024));
  }
  assert.deepEqual(statuses, Array.from({ length: 5 }, () => [413, 401]).flat());
  assert.equal((await fetch(`${gophermart}/healthz`)).status, 200, 'still serving');
});

/**
 * `count` pipelined GETs in one write (the last asks to close). `readAfterMs`: the client reads
 * nothing for that long, then everything; resolves with what came back once the server closed.
 */
function pipeline(port: number, count: number, path: string, readAfterMs = 0): Promise<{ data: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = '';
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
    });
    socket.pause();
    setTimeout(() => socket.resume(), readAfterMs);
    socket.on('error', () => undefined);
    socket.on('close', () => resolve({ data }));
    const one = `GET ${path} HTTP/1.1\r\nHost: x\r\n\r\n`;
    socket.write(`${one.repeat(count - 1)}GET ${path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
    setTimeout(() => reject(new Error(`connection still open after 20 s (${count} pipelined)`)), 20_000).unref();
  });
}

test('a client that pipelines requests and reads none of the answers is cut off; a few pipelined requests are all answered', async () => {
  const services = await everyService();
  const port = Number(new URL(services.gophermart!.url).port);
  const polite = await pipeline(port, 8, '/healthz');
  assert.equal(polite.data.match(/HTTP\/1\.1 200 OK/g)?.length, 8, 'eight answers, in one connection');
  // 200 requests for a 40 KB answer each in one write, nothing read for 2 s: the server does not
  // hold 8 MB of answers for it, it cuts the connection after a few
  const hostile = await pipeline(port, 200, '/openapi.json', 2_000);
  const answered = hostile.data.match(/HTTP\/1\.1 200 OK/g)?.length ?? 0;
  assert.ok(answered < 20, `${answered} of 200 answered before the cut`);
  assert.equal((await fetch(`${services.gophermart!.url}/healthz`)).status, 200, 'still serving');
});
