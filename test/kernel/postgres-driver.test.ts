import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../support/process.js';

interface Outcome {
  scenario: string;
  [field: string]: unknown;
}

/**
 * The driver patch (patches/postgres+3.4.9.patch, applied by `npm install`/`npm ci`): the
 * scenarios run in a child process because the unpatched driver throws from a setImmediate,
 * which ends the process whatever the caller catches.
 */
test('postgres.js survives its socket closing around a buffered write, and the client works again', { timeout: 60_000 }, async () => {
  const child = spawn(process.execPath, ['--import', 'tsx', resolve(ROOT, 'test/support/driver-crash-child.ts')], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  child.stderr.on('data', (d) => (stderr += d));
  const code = await new Promise<number | null>((res) => child.on('close', res));
  assert.equal(code, 0, `driver scenario process failed (unpatched driver?):\n${stderr}${stdout}`);
  const outcomes = stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Outcome);
  const [inTransaction, pendingWrite, endRefused] = outcomes;
  // a statement after the close is rejected (not thrown from a timer), the transaction fails, the client reconnects
  assert.deepEqual(inTransaction, {
    scenario: 'statement in a transaction after its socket closed',
    inside: 'CONNECTION_CLOSED',
    outcome: 'CONNECTION_CLOSED',
    afterwards: 3,
  });
  // a statement written in the reset's loop turn is settled, and the next connection's first write goes out
  assert.equal(pendingWrite?.scenario, 'reset with a write pending');
  assert.equal(pendingWrite?.outcome, 'CONNECTION_CLOSED');
  assert.equal(pendingWrite?.late, 'CONNECTION_CLOSED');
  assert.equal(pendingWrite?.again, 3);
  // end() returns once the refused connect settled its statement, not after its 5 s timeout
  assert.equal(endRefused?.scenario, 'end while the connect is refused');
  assert.equal(endRefused?.statement, 'ECONNREFUSED');
  assert.ok(Number(endRefused?.ms) < 2_000, `end() took ${String(endRefused?.ms)} ms`);
});
