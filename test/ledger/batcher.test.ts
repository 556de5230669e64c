import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Batcher, IsolatingBatcher } from '../../src/ledger/batcher.js';

/** A flush the test answers when it chooses: records each batch and hands back its resolver. */
function controlledFlush() {
  const batches: number[][] = [];
  const pending: Array<{ answer: () => void; fail: (err: Error) => void }> = [];
  const flush = (items: number[]): Promise<number[]> => {
    batches.push(items);
    return new Promise<number[]>((resolve, reject) => {
      pending.push({ answer: () => resolve(items.map((i) => i * 10)), fail: reject });
    });
  };
  return { batches, pending, flush };
}

test('Batcher: a lone call flushes at once; calls made during a flush go together in the next one', async () => {
  const { batches, pending, flush } = controlledFlush();
  const batcher = new Batcher(flush);
  const first = batcher.run(1);
  assert.deepEqual(batches, [[1]], 'no waiting at low load');
  const rest = [batcher.run(2), batcher.run(3), batcher.run(4)];
  assert.deepEqual(batches, [[1]], 'one flush in flight: the others wait for it');
  pending[0]?.answer();
  assert.equal(await first, 10);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [[1], [2, 3, 4]]);
  pending[1]?.answer();
  assert.deepEqual(await Promise.all(rest), [20, 30, 40]);
});

test('Batcher: a failed flush rejects its own calls only; the next flush still runs', async () => {
  const { batches, pending, flush } = controlledFlush();
  const batcher = new Batcher(flush);
  const failed = batcher.run(1);
  const later = batcher.run(2);
  pending[0]?.fail(new Error('database fault'));
  await assert.rejects(failed, /database fault/);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(batches, [[1], [2]]);
  pending[1]?.answer();
  assert.equal(await later, 20);
});

test('Batcher: a backlog larger than maxBatch is flushed in parts, in order', async () => {
  const { batches, pending, flush } = controlledFlush();
  const batcher = new Batcher(flush, 2);
  const calls = [1, 2, 3, 4, 5].map((i) => batcher.run(i));
  for (let i = 0; i < 4; i++) {
    pending[i]?.answer();
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual(batches, [[1], [2, 3], [4, 5]]);
  assert.deepEqual(await Promise.all(calls), [10, 20, 30, 40, 50]);
});

test('IsolatingBatcher: a failed batch is flushed again item by item; only the item that fails alone is rejected, with its own error', async () => {
  const batches: number[][] = [];
  // a statement fails whole when it holds item 3; each item alone answers for itself
  const flush = async (items: number[]): Promise<number[]> => {
    batches.push(items);
    if (items.includes(3)) throw new Error(items.length === 1 ? 'item 3 is bad' : 'batch failed');
    return items.map((i) => i * 10);
  };
  const batcher = new IsolatingBatcher(flush);
  const first = batcher.run(1);
  const rest = [2, 3, 4].map((i) => batcher.run(i));
  assert.equal(await first, 10);
  const settled = await Promise.allSettled(rest);
  assert.deepEqual(batches, [[1], [2, 3, 4], [2], [3], [4]]);
  assert.deepEqual(
    settled.map((s) => (s.status === 'fulfilled' ? s.value : (s.reason as Error).message)),
    [20, 'item 3 is bad', 40],
  );
});

test('IsolatingBatcher: a lone item whose flush fails is rejected with that error, not flushed twice', async () => {
  let flushes = 0;
  const batcher = new IsolatingBatcher(async (_items: number[]): Promise<number[]> => {
    flushes++;
    throw new Error('database fault');
  });
  await assert.rejects(batcher.run(1), /database fault/);
  assert.equal(flushes, 1);
});
