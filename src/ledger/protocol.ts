/**
 * The internal orchestrator ↔ shard protocol: paths, request bodies and result codes as TypeBox
 * schemas (the types both sides use are derived from them, and the shard's routes validate and
 * document with them), and the shared secret's setting. Both sides import this file (and
 * nothing else of each other), so a result code cannot be misspelt on one side.
 * Amounts on this internal API are integer hundredths.
 */

import { type Static, type TProperties, Type } from '@sinclair/typebox';
import { bearerToken, requiredSecretSetting } from '../kernel/config.js';
import { MAX_AMOUNT_HUNDREDTHS } from '../kernel/money.js';
import { TX_ID_PATTERN, WALLET_ID_PATTERN } from './ids.js';

export { TX_ID_PATTERN, WALLET_ID_MAX, WALLET_ID_PATTERN } from './ids.js';

const code = <C extends string, P extends TProperties = Record<never, never>>(result: C, props?: P) =>
  Type.Object({ result: Type.Literal(result), ...(props ?? ({} as P)) });

export const TxId = Type.String({ pattern: TX_ID_PATTERN });
export const WalletId = Type.String({ pattern: WALLET_ID_PATTERN });
export const Amount = Type.Integer({ minimum: 1, maximum: MAX_AMOUNT_HUNDREDTHS, description: 'integer hundredths' });

export const HoldKind = Type.Union([Type.Literal('debit-hold'), Type.Literal('pending-credit')]);
export type HoldKind = Static<typeof HoldKind>;
export const ShardTxState = Type.Union([Type.Literal('reserved'), Type.Literal('confirmed'), Type.Literal('cancelled')]);
export type ShardTxState = Static<typeof ShardTxState>;

/**
 * Why a shard transaction ended cancelled. `balance_limit`: the credit would have taken the
 * receiving wallet (its balance plus its open pending credits) above MAX_BALANCE_HUNDREDTHS.
 */
export const CancelReason = Type.Union([
  Type.Literal('insufficient_funds'),
  Type.Literal('unknown_wallet'),
  Type.Literal('balance_limit'),
  Type.Literal('cancelled'),
]);
export type CancelReason = Static<typeof CancelReason>;

export const CreateWalletResult = Type.Union([code('created'), code('exists')]);
export type CreateWalletResult = Static<typeof CreateWalletResult>;
export const WalletResult = Type.Union([code('ok', { wallet_id: Type.String(), balance: Type.Integer(), reserved: Type.Integer() }), code('unknown_wallet')]);
export type WalletResult = Static<typeof WalletResult>;

/** Outcome of reserve, local transfer and deposit (repeats answer what the first call decided). */
export const OperationResult = Type.Union([
  code('reserved'),
  code('confirmed'),
  code('cancelled'),
  code('insufficient_funds'),
  code('unknown_wallet', { wallet_id: Type.String() }),
  /** The receiving wallet would pass its maximum balance (a deposit, a local transfer, a pending credit). */
  code('balance_limit'),
  /** The tx id is already used by a different operation (other kind, wallet or amount). */
  code('conflict'),
]);
export type OperationResult = Static<typeof OperationResult>;

export const ConfirmResult = Type.Union([code('confirmed'), code('cancelled'), code('not_found')]);
export type ConfirmResult = Static<typeof ConfirmResult>;
/** `confirmed`: too late, the operation had already taken effect. */
export const CancelResult = Type.Union([code('cancelled', { reason: CancelReason, wallet_id: Type.Optional(Type.String()) }), code('confirmed')]);
export type CancelResult = Static<typeof CancelResult>;

export const TxStateResult = Type.Union([
  code('none'),
  code('ok', {
    kind: Type.String(),
    state: ShardTxState,
    wallet_id: Type.Union([Type.String(), Type.Null()]),
    amount: Type.Union([Type.Integer(), Type.Null()]),
    reason: Type.Union([CancelReason, Type.Null()]),
  }),
]);
export type TxStateResult = Static<typeof TxStateResult>;

/** Request bodies of the single-operation routes. */
export const CreateWalletBody = Type.Object({ wallet_id: WalletId });
export const ReserveBody = Type.Object({ wallet_id: WalletId, kind: HoldKind, amount: Amount });
export const TransferBody = Type.Object({ from_id: WalletId, to_id: WalletId, amount: Amount });
export const DepositBody = Type.Object({ wallet_id: WalletId, amount: Amount });

/**
 * One operation of `POST /internal/batch`: the same operation and parameters as its
 * single-operation route (`/internal/tx/:tx/<op>`), with the transaction id in the body.
 */
export const BatchOp = Type.Union([
  Type.Object({ op: Type.Literal('reserve'), tx_id: TxId, ...ReserveBody.properties }),
  Type.Object({ op: Type.Literal('confirm'), tx_id: TxId }),
  Type.Object({ op: Type.Literal('cancel'), tx_id: TxId }),
  Type.Object({ op: Type.Literal('transfer'), tx_id: TxId, ...TransferBody.properties }),
  Type.Object({ op: Type.Literal('deposit'), tx_id: TxId, ...DepositBody.properties }),
]);
export type BatchOp = Static<typeof BatchOp>;

/**
 * What a batch answers for one operation: exactly what its single route answers with 200, or
 * `error` where that route would answer 500 (a fault of that operation alone).
 */
export const BatchResult = Type.Union([...OperationResult.anyOf, ...ConfirmResult.anyOf, ...CancelResult.anyOf, code('error')]);
export type BatchResult = Static<typeof BatchResult>;

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

/** Most operations one batch request may carry (the shard refuses more with 400). */
export const MAX_BATCH_OPS = 256;
/** Body limit of the batch route: MAX_BATCH_OPS of the largest operation (two 1000-digit wallet ids) fit. */
export const BATCH_BODY_LIMIT = 1024 * 1024;

/** There is no built-in value: a token in the source would let anyone who reads it call the shards. */
export const shardTokenSetting = bearerToken(
  requiredSecretSetting(
    'SHARD_TOKEN',
    '--shard-token <token>',
    'shared secret the orchestrator presents to the shards as Bearer token; set the same value on the orchestrator and every shard',
  ),
);
