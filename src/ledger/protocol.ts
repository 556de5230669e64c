/**
 * The internal orchestrator ↔ shard protocol: paths, result codes and the shared secret's
 * setting. Both sides import this file (and nothing else of each other), so a result code
 * cannot be misspelt on one side.
 * Amounts on this internal API are integer hundredths.
 */

import { requiredSecretSetting } from '../kernel/config.js';

/** Transaction ids: the orchestrator's UUIDs, or any short token a test or operator chooses. */
export const TX_ID_PATTERN = '^[A-Za-z0-9_-]{1,100}$';
/** Wallet ids are digit strings of any length; the bound only keeps keys indexable. */
export const WALLET_ID_MAX = 1000;
export const WALLET_ID_PATTERN = `^[0-9]{1,${WALLET_ID_MAX}}$`;

export type HoldKind = 'debit-hold' | 'pending-credit';
export type ShardTxState = 'reserved' | 'confirmed' | 'cancelled';

/** Why a shard transaction ended cancelled. */
export type CancelReason = 'insufficient_funds' | 'unknown_wallet' | 'cancelled';

export type CreateWalletResult = { result: 'created' } | { result: 'exists' };
export type WalletResult = { result: 'ok'; wallet_id: string; balance: number; reserved: number } | { result: 'unknown_wallet' };

/** Outcome of reserve, local transfer and deposit (repeats answer what the first call decided). */
export type OperationResult =
  | { result: 'reserved' }
  | { result: 'confirmed' }
  | { result: 'cancelled' }
  | { result: 'insufficient_funds' }
  | { result: 'unknown_wallet'; wallet_id: string }
  /** The tx id is already used by a different operation (other kind, wallet or amount). */
  | { result: 'conflict' };

export type ConfirmResult = { result: 'confirmed' } | { result: 'cancelled' } | { result: 'not_found' };
/** `confirmed`: too late, the operation had already taken effect. */
export type CancelResult = { result: 'cancelled'; reason: CancelReason; wallet_id?: string } | { result: 'confirmed' };

export type TxStateResult =
  | { result: 'none' }
  | { result: 'ok'; kind: string; state: ShardTxState; wallet_id: string | null; amount: number | null; reason: CancelReason | null };

export const shardPaths = {
  wallets: '/internal/wallets',
  wallet: (id: string) => `/internal/wallets/${id}`,
  tx: (txId: string) => `/internal/tx/${txId}`,
  reserve: (txId: string) => `/internal/tx/${txId}/reserve`,
  confirm: (txId: string) => `/internal/tx/${txId}/confirm`,
  cancel: (txId: string) => `/internal/tx/${txId}/cancel`,
  transfer: (txId: string) => `/internal/tx/${txId}/transfer`,
  deposit: (txId: string) => `/internal/tx/${txId}/deposit`,
  batch: '/internal/batch',
} as const;

/**
 * One operation of `POST /internal/batch`: the same operation and parameters as its
 * single-operation route (`/internal/tx/:tx/<op>`), with the transaction id in the body.
 */
export type BatchOp =
  | { op: 'reserve'; tx_id: string; wallet_id: string; kind: HoldKind; amount: number }
  | { op: 'confirm'; tx_id: string }
  | { op: 'cancel'; tx_id: string }
  | { op: 'transfer'; tx_id: string; from_id: string; to_id: string; amount: number }
  | { op: 'deposit'; tx_id: string; wallet_id: string; amount: number };

/**
 * What a batch answers for one operation: exactly what its single route answers with 200, or
 * `error` where that route would answer 500 (a fault of that operation alone).
 */
export type BatchResult = OperationResult | ConfirmResult | CancelResult | { result: 'error' };

/** Most operations one batch request may carry (the shard refuses more with 400). */
export const MAX_BATCH_OPS = 256;
/** Body limit of the batch route: MAX_BATCH_OPS of the largest operation (two 1000-digit wallet ids) fit. */
export const BATCH_BODY_LIMIT = 1024 * 1024;

/** There is no built-in value: a token in the source would let anyone who reads it call the shards. */
export const shardTokenSetting = requiredSecretSetting(
  'SHARD_TOKEN',
  '--shard-token <token>',
  'shared secret the orchestrator presents to the shards as Bearer token; set the same value on the orchestrator and every shard',
);
