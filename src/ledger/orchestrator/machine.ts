/**
 * The transfer state machine, as pure functions: what the coordinator decides from the
 * shards' answers. No I/O here, so every rule has a unit test.
 */
import type { CancelResult, ConfirmResult, OperationResult } from '../protocol.js';

export type TxStatus = 'PENDING' | 'PROCESSING' | 'INVALID' | 'FAILED' | 'SUCCESSFUL';
export type FinalStatus = 'INVALID' | 'FAILED' | 'SUCCESSFUL';
export type DecisionKind = 'commit' | 'abort';

export const NOTES = {
  pending: 'transaction accepted, waiting to be processed',
  processing: 'transaction in processing',
  successful: 'transaction completed',
  insufficientFunds: 'not enough funds in the wallet',
  unknownReceiver: 'receiving wallet does not exist',
  unknownSender: 'sending wallet does not exist',
  limitExceeded: 'transaction confirmation limit exceeded',
  conflict: 'transaction id already used by another operation',
} as const;

export function isFinal(status: TxStatus): status is FinalStatus {
  return status === 'INVALID' || status === 'FAILED' || status === 'SUCCESSFUL';
}

/** A shard's answer, or the lack of one within the confirmation limit. */
export type Answer<T> = T | { result: 'timeout' } | { result: 'error' };

export interface Outcome {
  status: FinalStatus;
  note: string;
}

export interface Decision extends Outcome {
  decision: DecisionKind;
}

export const SUCCESS: Outcome = { status: 'SUCCESSFUL', note: NOTES.successful };
const LIMIT: Outcome = { status: 'FAILED', note: NOTES.limitExceeded };

function refusal(answer: Answer<OperationResult> | Answer<CancelResult>, side: 'sender' | 'receiver'): Outcome | null {
  const code = answer.result === 'cancelled' && 'reason' in answer ? answer.reason : answer.result;
  if (code === 'insufficient_funds') return { status: 'INVALID', note: NOTES.insufficientFunds };
  if (code === 'unknown_wallet') return { status: 'INVALID', note: side === 'sender' ? NOTES.unknownSender : NOTES.unknownReceiver };
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
    case 'cancelled':
      return LIMIT;
    case 'conflict':
      return { status: 'FAILED', note: NOTES.conflict };
    case 'reserved': // not an answer a one-step operation gives; settle it by cancelling
    case 'timeout':
    case 'error':
      return null;
  }
}

/** After the coordinator cancelled a one-step operation: too late (it happened) or stopped for good. */
export function afterCancel(answer: CancelResult, receiver: string): Outcome {
  if (answer.result === 'confirmed') return SUCCESS;
  if (answer.reason === 'insufficient_funds') return { status: 'INVALID', note: NOTES.insufficientFunds };
  if (answer.reason === 'unknown_wallet') return { status: 'INVALID', note: answer.wallet_id === receiver ? NOTES.unknownReceiver : NOTES.unknownSender };
  return LIMIT;
}

/** Phase 2 is acknowledged by the answer the decision expects; anything else is retried. */
export function acknowledged(decision: DecisionKind, answer: Answer<ConfirmResult> | Answer<CancelResult>): 'ack' | 'retry' | 'anomaly' {
  if (answer.result === 'timeout' || answer.result === 'error') return 'retry';
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
