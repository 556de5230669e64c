import assert from 'node:assert/strict';
import { connect, createServer } from 'node:net';
import { after, before, test } from 'node:test';
import { Type } from '@sinclair/typebox';
import type { HttpApp } from '../../src/kernel/http/server.js';
import { startStandbyServer } from '../../src/kernel/http/standby-server.js';
import { edgeServer } from '../support/edge-server.js';
import { until } from '../support/wait.js';

// Clients no HTTP library would be, byte for byte over loopback, against one in-process server
// with short limits: what each gets back, in what order, and what the log says about it.

/** Every line the server logged, parsed. */
const logLines: Array<Record<string, unknown>> = [];
let app: HttpApp;
let port: number;
/** POSTs /bump applied so far. */
let bumps = 0;
/** Resolves the /bump handlers waiting for it (see `holdBumps`). */
let bumpGate: Promise<void> = Promise.resolve();

before(async () => {
  app = await edgeServer({ headersTimeoutMs: 400, requestTimeoutMs: 600, keepAliveTimeoutMs: 5_000 }, logLines);
  app.post('/bump', { schema: { response: { 200: Type.Object({ bump: Type.Number() }) } } }, async () => {
    const bump = ++bumps;
    await bumpGate;
    return { bump };
  });
  port = Number(new URL(await app.listen({ host: '127.0.0.1', port: 0 })).port);
});
after(async () => {
  await app?.close();
});

/** Holds every /bump handler until the server has seen `count` requests (so they are all pending at once). */
function holdBumps(count: number): void {
  let seen = 0;
  bumpGate = new Promise<void>((release) => {
    const onRequest = (): void => {
      if (++seen < count) return;
      app.server.off('request', onRequest);
      release();
    };
    app.server.on('request', onRequest);
  });
}

/** Writes `bytes` in one write on a fresh connection; resolves with all the server sent once it closed the connection. */
function exchange(bytes: string, withinMs = 10_000, to = port, thenEnd = false): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(to, '127.0.0.1', () => (thenEnd ? socket.end(bytes) : socket.write(bytes)));
    let data = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => {
      data += chunk;
    });
    // a reset once the server is done is an ending like any other here
    socket.on('error', () => undefined);
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`connection still open after ${withinMs} ms; got ${JSON.stringify(data)}`));
    }, withinMs);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve(data);
    });
  });
}

interface Answer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** Splits what came back into its answers, each framed by its Content-Length (anything else fails the test). */
function answers(data: string): Answer[] {
  const out: Answer[] = [];
  let rest = data;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    assert.ok(end > 0, `not an answer: ${JSON.stringify(rest)}`);
    const [statusLine = '', ...fields] = rest.slice(0, end).split('\r\n');
    const status = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine)?.[1];
    assert.ok(status, `not a status line: ${JSON.stringify(statusLine)}`);
    const headers = Object.fromEntries(fields.map((f) => [f.slice(0, f.indexOf(':')).toLowerCase(), f.slice(f.indexOf(':') + 1).trim()]));
    const length = Number(headers['content-length']);
    assert.ok(Number.isInteger(length), `answer without a Content-Length: ${JSON.stringify(rest.slice(0, end))}`);
    out.push({ status: Number(status), headers, body: rest.slice(end + 4, end + 4 + length) });
    rest = rest.slice(end + 4 + length);
  }
  return out;
}

const bump = 'POST /bump HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}';

test('past 16 pipelined requests the next is answered 400 after the answers of the 16 before it, and the connection ends', async () => {
  bumps = 0;
  logLines.length = 0;
  holdBumps(17);
  const got = answers(await exchange(bump.repeat(20)));
  // every request that was applied gets its answer, in order
  assert.deepEqual(
    got.slice(0, 16).map((a) => [a.status, a.body]),
    Array.from({ length: 16 }, (_, i) => [200, JSON.stringify({ bump: i + 1 })]),
  );
  assert.equal(got.length, 17, 'nothing after the refusal');
  assert.deepEqual([got[16]?.status, got[16]?.body], [400, '{"error":"too many pipelined requests"}']);
  assert.equal(got[16]?.headers.connection, 'close');
  // the requests read after the refusal never ran
  assert.equal(bumps, 16);
  // refused for its connection, not by its route: logged as the other refusals made before routing
  const refusals = logLines.filter((l) => l.msg === 'request' && l.status === 400);
  assert.deepEqual(
    refusals.map((l) => [l.method, l.path, l.route]),
    [['POST', '/bump', 'unmatched']],
  );
});

test('a request followed by bytes that are no request: its answer comes first, then the 400, and the connection ends', async () => {
  const healthz = 'GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n';
  const junk = '\x01\x02 not HTTP\r\n\r\n';
  const one = answers(await exchange(`${healthz}${junk}`));
  assert.deepEqual(
    one.map((a) => [a.status, a.body]),
    [
      [200, '{"status":"ok"}'],
      [400, '{"error":"bad request"}'],
    ],
  );
  assert.equal(one[1]?.headers.connection, 'close');
  // two answers due (the first still running when the junk is read), the refusal after both
  bumps = 0;
  holdBumps(2);
  const two = answers(await exchange(`${bump}${healthz}${junk}`));
  assert.deepEqual(
    two.map((a) => [a.status, a.body]),
    [
      [200, '{"bump":1}'],
      [200, '{"status":"ok"}'],
      [400, '{"error":"bad request"}'],
    ],
  );
});

test('an HTTP/1.1 request without Host is refused 400 in the {"error"} shape and its connection closed; HTTP/1.0 needs none', async () => {
  logLines.length = 0;
  const [refused, ...more] = answers(await exchange('GET /healthz HTTP/1.1\r\n\r\n'));
  assert.equal(more.length, 0);
  assert.deepEqual([refused?.status, refused?.body], [400, '{"error":"Host header required"}']);
  assert.equal(refused?.headers['content-type'], 'application/json');
  assert.equal(refused?.headers.connection, 'close');
  // an answer a GET gets, so its document lists it, as it lists the 408 and the 431
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>> };
  assert.match(doc.paths['/healthz']?.get?.responses['400']?.description ?? '', /Host header required/);
  // a connection-level refusal, as Node's own were: logged with the refusals made before routing
  assert.deepEqual(
    logLines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.route, l.status]),
    [['GET', '/healthz', 'unmatched', 400]],
  );
  // requests pipelined behind the refused one never run: no state changes without its answer
  bumps = 0;
  const cut = answers(await exchange(`GET /healthz HTTP/1.1\r\n\r\n${bump}${bump}`));
  assert.deepEqual(
    cut.map((a) => a.status),
    [400],
  );
  assert.equal(bumps, 0);
  const old = answers(await exchange('GET /healthz HTTP/1.0\r\n\r\n'));
  assert.deepEqual(
    old.map((a) => [a.status, a.body]),
    [[200, '{"status":"ok"}']],
  );
});

test('a request with two Host lines is refused 400 (RFC 9112 §3.2), whatever their case or values; one Host passes', async () => {
  for (const hosts of ['Host: a\r\nHost: b', 'Host: a\r\nhost: a', 'HOST: a\r\nX-Other: 1\r\nhOsT: b']) {
    const [refused, ...more] = answers(await exchange(`GET /healthz HTTP/1.1\r\n${hosts}\r\n\r\n`));
    assert.equal(more.length, 0, hosts);
    assert.deepEqual([refused?.status, refused?.body, refused?.headers.connection], [400, '{"error":"more than one Host header"}', 'close'], hosts);
  }
  const one = answers(await exchange('GET /healthz HTTP/1.1\r\nX-Hosts: two\r\nHost: a\r\nConnection: close\r\n\r\n'));
  assert.deepEqual(
    one.map((a) => [a.status, a.body]),
    [[200, '{"status":"ok"}']],
  );
  const doc = app.swagger() as unknown as { paths: Record<string, Record<string, { responses: Record<string, { description?: string }> }>> };
  assert.match(doc.paths['/healthz']?.get?.responses['400']?.description ?? '', /more than one Host header/);
});

/** A loopback port nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
    probe.on('error', reject);
  });
}

test('the stand-in that answers while the database is away at start-up refuses a request without Host and a CONNECT the same way', async () => {
  const standbyPort = await freePort();
  const standby = await startStandbyServer(`127.0.0.1:${standbyPort}`, { headersTimeoutMs: 400, requestTimeoutMs: 600, keepAliveTimeoutMs: 5_000 });
  try {
    const refused = answers(await exchange('GET /healthz HTTP/1.1\r\n\r\n', 10_000, standbyPort));
    assert.deepEqual(
      refused.map((a) => [a.status, a.body]),
      [[400, '{"error":"Host header required"}']],
    );
    const twice = answers(await exchange('GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 10_000, standbyPort));
    assert.deepEqual(
      twice.map((a) => [a.status, a.body]),
      [[400, '{"error":"more than one Host header"}']],
    );
    const old = answers(await exchange('GET /healthz HTTP/1.0\r\n\r\n', 10_000, standbyPort));
    assert.deepEqual(
      old.map((a) => [a.status, a.body]),
      [[200, '{"status":"ok"}']],
    );
    const connected = answers(await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n', 10_000, standbyPort));
    assert.deepEqual(
      connected.map((a) => [a.status, a.body]),
      [[404, '{"error":"not found"}']],
    );
  } finally {
    await standby.close();
  }
});

test('CONNECT is answered as any method no route serves, 404 in the {"error"} shape, and its connection closed', async () => {
  logLines.length = 0;
  // a client that starts its TLS handshake at once, not waiting for the answer
  const got = answers(await exchange('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n\x16\x03\x01\x00\x05hello'));
  assert.deepEqual(
    got.map((a) => [a.status, a.body]),
    [[404, '{"error":"not found"}']],
  );
  assert.match(got[0]?.headers['content-type'] ?? '', /^application\/json/);
  assert.equal(got[0]?.headers.connection, 'close');
  // the same answer as for a method the router knows and no route serves
  const propfind = answers(await exchange('PROPFIND /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
  assert.deepEqual(
    propfind.map((a) => [a.status, a.body]),
    [[404, '{"error":"not found"}']],
  );
  assert.deepEqual(
    logLines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.route, l.status]),
    [
      ['CONNECT', 'example.com:443', 'unmatched', 404],
      ['PROPFIND', '/healthz', 'unmatched', 404],
    ],
  );
});

test('a 408 is logged with the method and path of a request whose headers arrived, and with - where they never did', async () => {
  logLines.length = 0;
  // headers complete, the body stalls past the 600 ms request limit
  const stalled = answers(await exchange('POST /bump?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10\r\n\r\n{'));
  assert.deepEqual(
    stalled.map((a) => [a.status, a.body]),
    [[408, '{"error":"request timeout"}']],
  );
  // headers never finished
  const unfinished = answers(await exchange('GET /healthz HTTP/1.1\r\nHost: x\r\n'));
  assert.deepEqual(
    unfinished.map((a) => a.status),
    [408],
  );
  assert.deepEqual(
    logLines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.route, l.status]),
    [
      ['POST', '/bump', 'unmatched', 408],
      ['-', '-', 'unmatched', 408],
    ],
  );
});

test('a client that hangs up before its answer still gets its one request line, as 499', async () => {
  logLines.length = 0;
  const before = bumps;
  let release = (): void => undefined;
  bumpGate = new Promise<void>((r) => {
    release = r;
  });
  const arrived = new Promise<void>((r) => app.server.once('request', () => r()));
  const socket = connect(port, '127.0.0.1', () =>
    socket.write('POST /bump?x=1 HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}'),
  );
  socket.on('error', () => undefined);
  await arrived;
  // the handler is running (it changed state) when the client goes; Fastify then never ran onResponse
  await until('the request run', () => bumps === before + 1, 5_000);
  socket.destroy();
  await until('its request line', () => logLines.some((l) => l.msg === 'request'), 5_000);
  release();
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    logLines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.route, l.status]),
    [['POST', '/bump', '/bump', 499]],
  );
});

test('a client that hangs up halfway through its body is logged once, by its refusal', async () => {
  logLines.length = 0;
  await exchange('POST /bump HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 50\r\n\r\n{"a', 10_000, port, true);
  await until('its request line', () => logLines.some((l) => l.msg === 'request'), 5_000);
  await new Promise((r) => setTimeout(r, 50));
  assert.deepEqual(
    logLines.filter((l) => l.msg === 'request').map((l) => [l.method, l.path, l.route, l.status]),
    [['POST', '/bump', 'unmatched', 400]],
  );
});
