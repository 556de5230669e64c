import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { Wakeup } from '../../src/kernel/lifecycle.js';

const elapsed = async (run: () => Promise<void>): Promise<number> => {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
};

test('Wakeup: a wait runs its time, wake() ends every wait in progress', async () => {
  const w = new Wakeup();
  assert.ok((await elapsed(() => w.wait(60))) >= 55);
  const waits = [w.wait(5_000), w.wait(5_000)];
  setTimeout(() => w.wake(), 20);
  assert.ok((await elapsed(() => Promise.all(waits).then(() => undefined))) < 1_000);
});

test('Wakeup: a wake with nobody waiting makes the next wait (only) return at once', async () => {
  const w = new Wakeup();
  w.wake();
  assert.ok((await elapsed(() => w.wait(5_000))) < 50);
  assert.ok((await elapsed(() => w.wait(60))) >= 55, 'the pending wake is used once');
});

test('Wakeup: an aborted signal ends the wait, and an already aborted one skips it', async () => {
  const w = new Wakeup();
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 20);
  assert.ok((await elapsed(() => w.wait(5_000, stop.signal))) < 1_000);
  assert.ok((await elapsed(() => w.wait(5_000, stop.signal))) < 50);
});

test('onStopSignals: a SIGTERM received but not yet dispatched when the handler changes reaches the new handler', () => {
  // The hand-over from the start-up handler to the running one. The signal is sent to the
  // process itself and the handler replaced in the same turn, before Node dispatches it: with
  // the old handler removed first, Node stopped watching SIGTERM and the signal was lost.
  const script = `
    import { onStopSignals } from './src/kernel/lifecycle.ts';
    onStopSignals(() => process.exit(3));
    setTimeout(() => {
      process.kill(process.pid, 'SIGTERM');
      onStopSignals(() => process.exit(0));
      setTimeout(() => process.exit(4), 2_000);
    }, 20);
  `;
  const run = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8', timeout: 20_000 });
  assert.equal(run.status, 0, `exit ${run.status} (3: the old handler got it, 4: lost) ${run.stderr}`);
});
