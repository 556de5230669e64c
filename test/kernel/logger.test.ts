import assert from 'node:assert/strict';
import { test } from 'node:test';
import { resolveLogFormat } from '../../src/kernel/logger.js';
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
