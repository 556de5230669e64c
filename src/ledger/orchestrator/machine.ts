/**
 * The transfer state machine, as pure functions: what the coordinator decides from the
 * shards' answers. No I/O here, so every rule has a unit test.
 */
import type { CancelResult, ConfirmResult, OperationResult } from '../protocol.js';
import { NOTES, type TxStatus } from './contract.js';

export type { TxStatus };
export type FinalStatus = 'INVALID' | 'FAILED' | 'SUCCESSFUL';
export type DecisionKind = 'commit' | 'abort';

/** The notes clients read are part of the API contract. */
export { NOTES };

export function isFinal(status: TxStatus): status is FinalStatus {
  return status === 'INVALID' || status === 'FAILED' || status === 'SUCCESSFUL';
}

/**
 * A shard's answer, or the lack of one within the confirmation limit. `unreachable`: the
 * request never left (the connection was refused), so the shard cannot have seen it; `error`
 * and `timeout` leave that open.
 */
export type Answer<T> = T | { result: 'timeout' } | { result: 'error' } | { result: 'unreachable' };

export interface Outcome {
  status: FinalStatus;
  note: string;
}

export interface Decision extends Outcome {
  decision: DecisionKind;
}

export const SUCCESS: Outcome = { status: 'SUCCESSFUL', note: NOTES.successful };
/** The receiving wallet's shard refused the credit: it would have passed the wallet's maximum balance. */
const BALANCE_LIMIT: Outcome = { status: 'INVALID', note: NOTES.balanceLimit };
const LIMIT: Outcome = { status: 'FAILED', note: NOTES.limitExceeded };
/** The decision recovery records for a transaction whose phase 1 outcome is unknown. */
export const RECOVERY_ABORT: Decision = { decision: 'abort', ...LIMIT };
/** A one-step operation whose shard could not even be connected to: it did not happen. */
export const UNREACHABLE: Outcome = LIMIT;
/** The cancel answer of a shard that never received the transaction: nothing to cancel there. */
export const NOTHING_THERE: CancelResult = { result: 'cancelled', reason: 'cancelled' };

interface TxCommon {
  tx_id: string;
  amount: number;
  status: TxStatus;
  /** Recorded commit/abort and the final outcome it leads to; null until decided. */
  decision: Decision | null;
  /** The orchestrator instance driving it (null: logged before leases existed, free to take). */
  lease_owner: string | null;
}

/** Money into a wallet: one idempotent call on the wallet's shard. */
export interface DepositTx extends TxCommon {
  type: 'deposit';
  to_wallet: string;
  shard: number;
}

/** Both wallets on one shard: one idempotent call there, in one local database transaction. */
export interface LocalTransferTx extends TxCommon {
  type: 'local';
  from_wallet: string;
  to_wallet: string;
  shard: number;
}

/** Wallets on two shards: two-phase commit (reserve both, record the decision, confirm or cancel both). */
export interface CrossShardTx extends TxCommon {
  type: 'cross';
  from_wallet: string;
  to_wallet: string;
  from_shard: number;
  to_shard: number;
}

/** A transaction as the log holds it. */
export type TxRecord = DepositTx | LocalTransferTx | CrossShardTx;

/**
 * What to do next with a transaction. Every rule about where a transaction stands — also after
 * a crash — lives in `next`; the coordinator only carries the steps out.
 */
export type Step =
  | { step: 'done'; rule: 'final status: nothing left to do' }
  | { step: 'leave'; rule: 'leased to another instance: its owner drives it' }
  | { step: 'one_step'; rule: 'one-step transaction not final: (re)send its idempotent shard call'; tx: DepositTx | LocalTransferTx }
  | { step: 'phase1'; rule: 'cross-shard PENDING: no shard has seen it; claim it, then reserve on both'; tx: CrossShardTx }
  | {
      step: 'abort';
      rule: 'cross-shard PROCESSING without a decision: phase 1 may have reached a shard; abort (cancel leaves tombstones)';
      tx: CrossShardTx;
      decision: Decision;
    }
  | { step: 'confirm'; rule: 'decision commit recorded: confirm on both shards'; tx: CrossShardTx; decision: Decision }
  | { step: 'cancel'; rule: 'decision abort recorded: cancel on both shards'; tx: CrossShardTx; decision: Decision };

/** The next step for `record`, as seen by instance `self`. Pure: the table in machine.test.ts is its specification. */
export function next(record: TxRecord, self: string): Step {
  if (isFinal(record.status)) return { step: 'done', rule: 'final status: nothing left to do' };
  if (record.lease_owner !== null && record.lease_owner !== self) return { step: 'leave', rule: 'leased to another instance: its owner drives it' };
  if (record.type !== 'cross') return { step: 'one_step', rule: 'one-step transaction not final: (re)send its idempotent shard call', tx: record };
  const { decision } = record;
  if (decision?.decision === 'commit') return { step: 'confirm', rule: 'decision commit recorded: confirm on both shards', tx: record, decision };
  if (decision) return { step: 'cancel', rule: 'decision abort recorded: cancel on both shards', tx: record, decision };
  if (record.status === 'PENDING') return { step: 'phase1', rule: 'cross-shard PENDING: no shard has seen it; claim it, then reserve on both', tx: record };
  return {
    step: 'abort',
    rule: 'cross-shard PROCESSING without a decision: phase 1 may have reached a shard; abort (cancel leaves tombstones)',
    tx: record,
    decision: RECOVERY_ABORT,
  };
}

/** A shard's refusal as the final outcome it leads to (INVALID with its note); null when the answer is no refusal. */
function refusal(answer: Answer<OperationResult> | Answer<CancelResult>, side: 'sender' | 'receiver'): Outcome | null {
  const code = answer.result === 'cancelled' && 'reason' in answer ? answer.reason : answer.result;
  if (code === 'insufficient_funds') return { status: 'INVALID', note: NOTES.insufficientFunds };
  if (code === 'unknown_wallet') return { status: 'INVALID', note: side === 'sender' ? NOTES.unknownSender : NOTES.unknownReceiver };
  if (code === 'balance_limit') return BALANCE_LIMIT;
  return null;
}

function held(answer: Answer<OperationResult>): boolean {
  // 'confirmed' in phase 1 means an earlier run already committed: it counts as held, and the
  // decision recorded then (commit) is what the compare-and-set will hand back.
  return answer.result === 'reserved' || answer.result === 'confirmed';
}

/**
 * Phase 1 → decision. Commit iff both shards hold the money. Otherwise abort, with the most
 * telling reason: a refusal (INVALID) beats silence (FAILED).
 */
export function decide(debit: Answer<OperationResult>, credit: Answer<OperationResult>): Decision {
  if (held(debit) && held(credit)) return { decision: 'commit', ...SUCCESS };
  const reason = refusal(debit, 'sender') ?? refusal(credit, 'receiver');
  if (reason) return { decision: 'abort', ...reason };
  if (debit.result === 'conflict' || credit.result === 'conflict') return { decision: 'abort', status: 'FAILED', note: NOTES.conflict };
  return { decision: 'abort', ...LIMIT };
}

/**
 * Outcome of a one-step shard operation (same-shard transfer, deposit). null: no answer —
 * the coordinator must cancel it (which settles it either way) and ask `afterCancel`.
 */
export function localOutcome(answer: Answer<OperationResult>, receiver: string): Outcome | null {
  switch (answer.result) {
    case 'confirmed':
      return SUCCESS;
    case 'insufficient_funds':
      return { status: 'INVALID', note: NOTES.insufficientFunds };
    case 'unknown_wallet':
      return { status: 'INVALID', note: answer.wallet_id === receiver ? NOTES.unknownReceiver : NOTES.unknownSender };
    case 'balance_limit':
      return BALANCE_LIMIT;
    case 'cancelled':
      return LIMIT;
    case 'conflict':
      return { status: 'FAILED', note: NOTES.conflict };
    case 'reserved': // not an answer a one-step operation gives; settle it by cancelling
    case 'timeout':
    case 'error':
    case 'unreachable':
      return null;
  }
}

/** After the coordinator cancelled a one-step operation: too late (it happened) or stopped for good. */
export function afterCancel(answer: CancelResult, receiver: string): Outcome {
  if (answer.result === 'confirmed') return SUCCESS;
  if (answer.reason === 'insufficient_funds') return { status: 'INVALID', note: NOTES.insufficientFunds };
  if (answer.reason === 'unknown_wallet') return { status: 'INVALID', note: answer.wallet_id === receiver ? NOTES.unknownReceiver : NOTES.unknownSender };
  if (answer.reason === 'balance_limit') return BALANCE_LIMIT;
  return LIMIT;
}

/**
 * Phase 2 is acknowledged by the answer the decision expects; no answer is retried. `settle` is
 * the cancel of a one-step operation (deposit, same-shard transfer) that went unanswered: no
 * decision was recorded, so whichever reached the shard first, the operation or the cancel,
 * is the outcome, and `confirmed` (the operation was first) is as good an answer as `cancelled`.
 */
export function acknowledged(decision: DecisionKind | 'settle', answer: Answer<ConfirmResult> | Answer<CancelResult>): 'ack' | 'retry' | 'anomaly' {
  if (answer.result === 'timeout' || answer.result === 'error' || answer.result === 'unreachable') return 'retry';
  if (decision === 'settle') return answer.result === 'cancelled' || answer.result === 'confirmed' ? 'ack' : 'anomaly';
  if (decision === 'commit') return answer.result === 'confirmed' ? 'ack' : 'anomaly';
  return answer.result === 'cancelled' ? 'ack' : 'anomaly';
}

/**
 * Final outcome of an abort once both cancels are acknowledged. A recovery abort (recorded as
 * FAILED without knowing why) is refined when a shard reports it had refused the reserve.
 */
export function abortOutcome(recorded: Outcome, debitCancel: CancelResult | null, creditCancel: CancelResult | null): Outcome {
  if (recorded.status === 'INVALID') return recorded;
  return (debitCancel && refusal(debitCancel, 'sender')) ?? (creditCancel && refusal(creditCancel, 'receiver')) ?? recorded;
}

/** Shard of a wallet id (digits of any length): id mod N. */
export function shardOf(walletId: string, shards: number): number {
  return Number(BigInt(walletId) % BigInt(shards));
}

/** Retry pause for phase 2: doubling from 50 ms, capped at 2 s. */
export function backoffMs(attempt: number): number {
  return Math.min(2_000, 50 * 2 ** Math.min(attempt, 6));
}
