import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isoTimeOncePerMs, resolveLogFormat } from '../../src/kernel/logger.js';
import { stackLogLevel } from '../../src/stack.js';

test('LOG_FORMAT=auto: readable on a terminal, JSON lines anywhere else; json and pretty are taken as asked', () => {
  assert.equal(resolveLogFormat('auto', true), 'pretty');
  assert.equal(resolveLogFormat('auto', false), 'json');
  for (const tty of [true, false]) {
    assert.equal(resolveLogFormat('json', tty), 'json');
    assert.equal(resolveLogFormat('pretty', tty), 'pretty');
  }
});

test('the stack is quiet (warn) for a person at a terminal, info for JSON, and LOG_LEVEL wins over both', () => {
  assert.equal(stackLogLevel({ logLevel: '' }, 'pretty'), 'warn');
  assert.equal(stackLogLevel({ logLevel: '' }, 'json'), 'info');
  assert.equal(stackLogLevel({ logLevel: 'debug' }, 'pretty'), 'debug');
});

test('the log timestamp is the ISO time of the millisecond the line is written, formatted again when the clock moves', () => {
  let now = Date.UTC(2026, 11, 1, 16, 0, 0, 1);
  const time = isoTimeOncePerMs(() => now);
  assert.equal(time(), ',"time":"2026-12-01T16:00:00.001Z"');
  assert.equal(time(), ',"time":"2026-12-01T16:00:00.001Z"');
  now += 1;
  assert.equal(time(), ',"time":"2026-12-01T16:00:00.002Z"');
  now += 59_998;
  assert.equal(time(), ',"time":"2026-12-01T16:01:00.000Z"');
});
