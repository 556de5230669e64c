import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../src/kernel/http/server.js';
import { edgeServer } from '../support/edge-server.js';
import { until } from '../support/wait.js';

// A client that stops reading its answers, or stops sending a body it announced: the connection
// is given up once nothing has moved on it for the stall limit (1 s here), whatever the other limits.

const STALL_MS = 1_000;
/** Larger than what loopback's socket buffers take in, many times over once pipelined. */
const BIG = 'x'.repeat(4 * 1024 * 1024);
const logLines: Array<Record<string, unknown>> = [];
let app: HttpApp;
let port: number;

before(async () => {
  // the whole-request limit is far away: only the stall limit can end these connections
  app = await edgeServer({ headersTimeoutMs: 20_000, requestTimeoutMs: 20_000, keepAliveTimeoutMs: 5_000, stalledConnectionMs: STALL_MS }, logLines);
  app.get('/big', { schema: { response: { 200: Type.Object({ data: Type.String() }) } } }, async () => ({ data: BIG }));
  app.post('/echo', { schema: { response: { 200: Type.Object({}, { additionalProperties: true }) } } }, async (request) => request.body as object);
  port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
});
after(async () => {
  await app?.close();
});

interface Opened {
  socket: Socket;
  /** Everything received, once the server closed the connection, and when (ms after opening). */
  closed: Promise<{ afterMs: number; data: string }>;
}

function open(): Promise<Opened> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const openedAt = performance.now();
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    // a reset from a server that gave up is an ending like any other here
    socket.on('error', () => undefined);
    const closed = new Promise<{ afterMs: number; data: string }>((res) =>
      socket.once('close', () => res({ afterMs: performance.now() - openedAt, data: Buffer.concat(chunks).toString('latin1') })),
    );
    socket.once('connect', () => resolve({ socket, closed }));
    socket.once('error', reject);
  });
}

test('a client that pipelines requests for large answers and reads none of them is cut off once nothing moves for the stall limit', async () => {
  logLines.length = 0;
  const conn = await open();
  const sentAt = performance.now();
  conn.socket.write('GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(6));
  // reads nothing (a paused socket does not see the server's close either): the first answers
  // fill the socket buffers, the rest wait in the server
  conn.socket.pause();
  // each request has its line once the server is done with it: given up, it is logged as 499
  await until('six request lines', () => logLines.filter((l) => l.msg === 'request').length === 6, STALL_MS + 8_000, 10);
  const afterMs = performance.now() - sentAt;
  // without the limit the connection (and every answer held for it) stayed for as long as the client liked
  assert.ok(afterMs >= STALL_MS, `given up after ${afterMs} ms, before the stall limit`);
  const statuses = logLines.filter((l) => l.msg === 'request').map((l) => l.status);
  assert.ok(statuses.includes(499), `statuses logged: ${statuses.join(',')}`);
  // the connection is gone: reading again, the client finds it closed, short of the six answers
  conn.socket.resume();
  const { data } = await conn.closed;
  assert.ok(data.length < 6 * BIG.length, `got ${data.length} bytes`);
});

test('a client that reads large answers slowly but steadily gets all of them, though that takes longer than the stall limit', async () => {
  const conn = await open();
  const sentAt = performance.now();
  conn.socket.write(`${'GET /big HTTP/1.1\r\nHost: x\r\n\r\n'.repeat(2)}GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n`);
  // a short pause after every chunk: far slower than loopback, never still for the stall limit
  conn.socket.on('data', () => {
    conn.socket.pause();
    setTimeout(() => conn.socket.resume(), 15);
  });
  const { data } = await conn.closed;
  const tookMs = performance.now() - sentAt;
  assert.equal(data.split('HTTP/1.1 200 OK\r\n').length - 1, 3);
  assert.ok(data.endsWith(`{"data":"${BIG}"}`), `got ${data.length} bytes`);
  assert.ok(tookMs > STALL_MS, `read within ${tookMs} ms: not slow enough to show anything`);
});

test('a body that stops arriving is answered 408 once nothing has come for the stall limit, before the request limit', async () => {
  const conn = await open();
  conn.socket.write('POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a');
  const { afterMs, data } = await conn.closed;
  assert.ok(afterMs >= STALL_MS && afterMs < 10_000, `closed after ${afterMs} ms`);
  assert.match(data, /^HTTP\/1\.1 408 Request Timeout\r\n/);
  assert.ok(data.endsWith('{"error":"request timeout"}'), data);
});
