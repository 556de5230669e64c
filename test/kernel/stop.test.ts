import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { accrualSettings } from '../../src/accrual/config.js';
import { startAccrual } from '../../src/accrual/main.js';
import { configWith } from '../../src/kernel/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { freshDatabase, type FreshDatabase } from '../support/postgres.js';
import { openRaw } from '../support/raw-socket.js';

// A service's stop, as SIGTERM runs it, with requests already sent by clients while the process
// was too busy to take them: they wait in the kernel (the listen backlog, unread sockets).
let db: FreshDatabase;
let dir: string;

before(async () => {
  db = await freshDatabase('gm_stop');
  dir = mkdtempSync(join(tmpdir(), 'gm-stop-'));
});

after(async () => {
  await db?.drop();
  rmSync(dir, { recursive: true, force: true });
});

/** A client process that opens `n` connections, sends one request on each, touches `sent` once all are written, and prints what each got. */
function clients(port: number, n: number, sent: string): { answers: Promise<string[]> } {
  const script = `
    const net = require('node:net'), fs = require('node:fs');
    const answers = []; let written = 0;
    for (let i = 0; i < ${n}; i++) {
      const socket = net.connect(${port}, '127.0.0.1');
      let data = '';
      socket.write('GET /api/orders/12345678903 HTTP/1.1\\r\\nHost: stop\\r\\n\\r\\n', () => {
        if (++written === ${n}) fs.writeFileSync(${JSON.stringify(sent)}, '');
      });
      socket.on('data', (d) => (data += d)).on('error', () => {}).on('close', () => {
        answers.push(data ? data.split('\\r\\n')[0] : 'no answer');
        if (answers.length === ${n}) console.log(JSON.stringify(answers));
      });
    }`;
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  return { answers: new Promise((resolve) => child.on('exit', () => resolve(JSON.parse(out || '[]') as string[]))) };
}

test('a stop answers the requests clients sent while the process was busy, rather than resetting them', { timeout: 60_000 }, async () => {
  const running = await startAccrual(configWith(accrualSettings, { address: '127.0.0.1:0', databaseUri: db.url, databasePoolSize: 2 }), {
    logger: createLogger('stop-test', 'silent'),
  });
  const sent = join(dir, 'sent');
  const { answers } = clients(Number(new URL(running.url).port), 8, sent);
  // busy (a long synchronous task): the connections and their requests queue in the kernel
  const deadline = Date.now() + 20_000;
  while (!existsSync(sent)) assert.ok(Date.now() < deadline, 'the client never sent its requests');
  await running.stop();
  const got = await answers;
  assert.equal(got.length, 8);
  // each one answered (the order is unknown: 204), none cut off
  assert.deepEqual(got, Array(8).fill('HTTP/1.1 204 No Content'));
});

test('an answer given once the stop began ends its connection, so a keep-alive client sends nothing more into the close', { timeout: 60_000 }, async () => {
  const running = await startAccrual(configWith(accrualSettings, { address: '127.0.0.1:0', databaseUri: db.url, databasePoolSize: 2 }), {
    logger: createLogger('stop-test', 'silent'),
  });
  const conn = await openRaw(running.url);
  const request = 'GET /api/orders/12345678903 HTTP/1.1\r\nHost: stop\r\n\r\n';
  conn.socket.write(request);
  await conn.waitFor('\r\n\r\n', 10_000);
  assert.match(conn.received(), /^HTTP\/1\.1 204 .*\r\nConnection: keep-alive\r\n/s);
  // the next request on the same connection, sent in the stop's first moment (while it still
  // takes the requests clients had sent): answered, and told the connection ends with it
  const stopped = running.stop();
  conn.socket.write(request);
  const { data } = await conn.closed;
  await stopped;
  const second = data.slice(data.indexOf('HTTP/1.1', 1));
  assert.match(second, /^HTTP\/1\.1 204 /);
  assert.match(second, /\r\nconnection: close\r\n/i);
});
