import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  NOTES,
  RECOVERY_ABORT,
  abortOutcome,
  acknowledged,
  afterCancel,
  backoffMs,
  decide,
  isFinal,
  localOutcome,
  next,
  shardOf,
  type Decision,
  type Step,
  type TxRecord,
} from '../../src/ledger/orchestrator/machine.js';

test('commit only when both shards hold the money', () => {
  assert.equal(decide({ result: 'reserved' }, { result: 'reserved' }).decision, 'commit');
  assert.equal(decide({ result: 'confirmed' }, { result: 'reserved' }).decision, 'commit');
  for (const other of [{ result: 'timeout' }, { result: 'error' }, { result: 'unreachable' }, { result: 'cancelled' }, { result: 'conflict' }] as const) {
    assert.equal(decide({ result: 'reserved' }, other).decision, 'abort');
    assert.equal(decide(other, { result: 'reserved' }).decision, 'abort');
  }
});

test('abort reasons: refusals are INVALID with their note, silence is FAILED', () => {
  assert.deepEqual(decide({ result: 'insufficient_funds' }, { result: 'reserved' }), { decision: 'abort', status: 'INVALID', note: NOTES.insufficientFunds });
  assert.deepEqual(decide({ result: 'reserved' }, { result: 'unknown_wallet', wallet_id: '2' }), {
    decision: 'abort',
    status: 'INVALID',
    note: NOTES.unknownReceiver,
  });
  assert.deepEqual(decide({ result: 'unknown_wallet', wallet_id: '1' }, { result: 'timeout' }), {
    decision: 'abort',
    status: 'INVALID',
    note: NOTES.unknownSender,
  });
  assert.deepEqual(decide({ result: 'insufficient_funds' }, { result: 'timeout' }).status, 'INVALID');
  assert.deepEqual(decide({ result: 'timeout' }, { result: 'reserved' }), {
    decision: 'abort',
    status: 'FAILED',
    note: 'transaction confirmation limit exceeded',
  });
  assert.equal(decide({ result: 'conflict' }, { result: 'reserved' }).note, NOTES.conflict);
});

test('one-step operations: answer decides, silence means cancel first', () => {
  assert.equal(localOutcome({ result: 'confirmed' }, '2')?.status, 'SUCCESSFUL');
  assert.equal(localOutcome({ result: 'insufficient_funds' }, '2')?.note, 'not enough funds in the wallet');
  assert.equal(localOutcome({ result: 'unknown_wallet', wallet_id: '2' }, '2')?.note, NOTES.unknownReceiver);
  assert.equal(localOutcome({ result: 'unknown_wallet', wallet_id: '1' }, '2')?.note, NOTES.unknownSender);
  assert.equal(localOutcome({ result: 'cancelled' }, '2')?.status, 'FAILED');
  assert.equal(localOutcome({ result: 'timeout' }, '2'), null);
  assert.equal(localOutcome({ result: 'error' }, '2'), null);
  assert.equal(localOutcome({ result: 'unreachable' }, '2'), null, 'the coordinator, not the table, decides what a refused connection means');
  assert.equal(afterCancel({ result: 'confirmed' }, '2').status, 'SUCCESSFUL');
  assert.equal(afterCancel({ result: 'cancelled', reason: 'cancelled' }, '2').note, NOTES.limitExceeded);
  assert.equal(afterCancel({ result: 'cancelled', reason: 'insufficient_funds' }, '2').status, 'INVALID');
  assert.equal(afterCancel({ result: 'cancelled', reason: 'unknown_wallet', wallet_id: '2' }, '2').note, NOTES.unknownReceiver);
});

test("a credit past the receiver's maximum balance is INVALID with its note, at every step", () => {
  const full = { status: 'INVALID', note: NOTES.balanceLimit };
  assert.equal(NOTES.balanceLimit, 'the receiving wallet would exceed its maximum balance');
  assert.deepEqual(decide({ result: 'reserved' }, { result: 'balance_limit' }), { decision: 'abort', ...full });
  // the sender's refusal is the more telling reason, as for an unknown receiver
  assert.equal(decide({ result: 'insufficient_funds' }, { result: 'balance_limit' }).note, NOTES.insufficientFunds);
  assert.deepEqual(localOutcome({ result: 'balance_limit' }, '2'), full);
  assert.deepEqual(afterCancel({ result: 'cancelled', reason: 'balance_limit' }, '2'), full);
  const limit = { status: 'FAILED' as const, note: NOTES.limitExceeded };
  assert.deepEqual(abortOutcome(limit, { result: 'cancelled', reason: 'cancelled' }, { result: 'cancelled', reason: 'balance_limit' }), full);
});

test('phase 2 acknowledgements', () => {
  assert.equal(acknowledged('commit', { result: 'confirmed' }), 'ack');
  assert.equal(acknowledged('commit', { result: 'timeout' }), 'retry');
  assert.equal(acknowledged('commit', { result: 'error' }), 'retry');
  assert.equal(acknowledged('abort', { result: 'unreachable' }), 'retry');
  assert.equal(acknowledged('commit', { result: 'cancelled', reason: 'cancelled' }), 'anomaly');
  assert.equal(acknowledged('abort', { result: 'cancelled', reason: 'cancelled' }), 'ack');
  assert.equal(acknowledged('abort', { result: 'confirmed' }), 'anomaly');
  // a one-step operation's cancel: the operation may have reached the shard first
  assert.equal(acknowledged('settle', { result: 'confirmed' }), 'ack');
  assert.equal(acknowledged('settle', { result: 'cancelled', reason: 'insufficient_funds' }), 'ack');
  assert.equal(acknowledged('settle', { result: 'timeout' }), 'retry');
});

test('a recovery abort is refined by what the shards had refused', () => {
  const limit = { status: 'FAILED' as const, note: NOTES.limitExceeded };
  assert.deepEqual(abortOutcome(limit, { result: 'cancelled', reason: 'cancelled' }, { result: 'cancelled', reason: 'cancelled' }), limit);
  assert.equal(
    abortOutcome(limit, { result: 'cancelled', reason: 'insufficient_funds' }, { result: 'cancelled', reason: 'cancelled' }).note,
    NOTES.insufficientFunds,
  );
  assert.equal(
    abortOutcome(limit, { result: 'cancelled', reason: 'cancelled' }, { result: 'cancelled', reason: 'unknown_wallet', wallet_id: '9' }).note,
    NOTES.unknownReceiver,
  );
  const invalid = { status: 'INVALID' as const, note: NOTES.insufficientFunds };
  assert.deepEqual(abortOutcome(invalid, { result: 'cancelled', reason: 'cancelled' }, null), invalid);
});

test('shard of an id of any length, statuses, backoff', () => {
  assert.equal(shardOf('7', 3), 1);
  assert.equal(shardOf('0', 2), 0);
  assert.equal(shardOf('123456789012345678901234567890', 7), Number(123456789012345678901234567890n % 7n));
  assert.equal(shardOf('9007199254740993', 2), 1); // beyond 2^53: a JS number would say 0
  assert.ok(isFinal('FAILED') && !isFinal('PROCESSING') && !isFinal('PENDING'));
  assert.equal(backoffMs(0), 50);
  assert.equal(backoffMs(100), 2_000);
});

// next(record): every state a transaction can be found in (after a crash too) and the step it leads to
const SELF = 'this-instance';
const base = { tx_id: 't', amount: 100, lease_owner: SELF };
const cross = { ...base, type: 'cross', from_wallet: '1', to_wallet: '2', from_shard: 0, to_shard: 1 } as const;
const local = { ...base, type: 'local', from_wallet: '1', to_wallet: '3', shard: 0 } as const;
const deposit = { ...base, type: 'deposit', to_wallet: '2', shard: 1 } as const;
const commit: Decision = { decision: 'commit', status: 'SUCCESSFUL', note: NOTES.successful };
const abort: Decision = { decision: 'abort', status: 'INVALID', note: NOTES.insufficientFunds };
const table: Array<[string, TxRecord, Step['step']]> = [
  ['final: nothing to do', { ...cross, status: 'SUCCESSFUL', decision: commit }, 'done'],
  ['final INVALID at acceptance (unknown receiver)', { ...local, status: 'INVALID', decision: abort }, 'done'],
  ['final FAILED deposit', { ...deposit, status: 'FAILED', decision: null }, 'done'],
  ['leased to another instance', { ...cross, status: 'PENDING', decision: null, lease_owner: 'other' }, 'leave'],
  ['another instance’s, even with a decision', { ...cross, status: 'PROCESSING', decision: commit, lease_owner: 'other' }, 'leave'],
  ['logged before leases (no owner): ours to drive', { ...cross, status: 'PENDING', decision: null, lease_owner: null }, 'phase1'],
  ['cross PENDING: run phase 1', { ...cross, status: 'PENDING', decision: null }, 'phase1'],
  ['cross PROCESSING without a decision: abort', { ...cross, status: 'PROCESSING', decision: null }, 'abort'],
  ['cross decision commit: confirm both', { ...cross, status: 'PROCESSING', decision: commit }, 'confirm'],
  ['cross decision abort: cancel both', { ...cross, status: 'PROCESSING', decision: abort }, 'cancel'],
  ['local PENDING: the one-step call', { ...local, status: 'PENDING', decision: null }, 'one_step'],
  ['local PROCESSING (never written, but safe): the one-step call again', { ...local, status: 'PROCESSING', decision: null }, 'one_step'],
  ['deposit PENDING: the one-step call', { ...deposit, status: 'PENDING', decision: null }, 'one_step'],
];
for (const [name, record, step] of table) {
  test(`next: ${name} → ${step}`, () => {
    const got = next(record, SELF);
    assert.equal(got.step, step);
    assert.ok(got.rule.length > 0, 'every step names its rule');
  });
}

test('next: PROCESSING without a decision is aborted as FAILED with the limit note (a shard may refine it to INVALID)', () => {
  const got = next({ ...cross, status: 'PROCESSING', decision: null }, SELF);
  assert.equal(got.step, 'abort');
  if (got.step === 'abort') assert.deepEqual(got.decision, RECOVERY_ABORT);
  assert.deepEqual(RECOVERY_ABORT, { decision: 'abort', status: 'FAILED', note: NOTES.limitExceeded });
});

test('next: the recorded decision is the one followed', () => {
  const got = next({ ...cross, status: 'PROCESSING', decision: abort }, SELF);
  assert.ok(got.step === 'cancel' && got.decision === abort);
});
