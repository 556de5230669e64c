import { type Static, Type } from '@sinclair/typebox';
import { outcomes } from '../../kernel/http/outcome.js';
import { MAX_AMOUNT_HUNDREDTHS, MAX_BALANCE_HUNDREDTHS } from '../../kernel/money.js';
import { WALLET_ID_MAX } from '../ids.js';

/** Whole units of an amount (a maximum) as a message shows them: 1000000000000. */
const formatUnits = (hundredths: number): string => String(hundredths / 100);

/**
 * The orchestrator's HTTP contract: every request and answer shape (TypeBox schemas with their
 * static types), the notes a transaction's history shows, and every refusal with its status
 * and message. The routes validate and document with these, the web app imports the types
 * (`import type`, no runtime), the tests check answers against them.
 */

export { Credentials, Session } from '../../kernel/http/auth-contract.js';

export const WalletIdValue = Type.String({
  description: `wallet id: a string of decimal digits, at most ${WALLET_ID_MAX} (a JSON number is refused: parsed, it is a float)`,
});
export const AmountValue = Type.Union([Type.String(), Type.Number()], {
  description: `positive amount, at most 2 decimals and at most ${formatUnits(MAX_AMOUNT_HUNDREDTHS)}: "50", "50.25" or 50.25`,
});

export const CreateWalletRequest = Type.Object({ wallet_id: WalletIdValue });
export type CreateWalletRequest = Static<typeof CreateWalletRequest>;
export const WalletAccepted = Type.Object({ wallet_id: Type.String() }, { description: 'accepted: the wallet is (being) created on its shard' });
export type WalletAccepted = Static<typeof WalletAccepted>;

export const TransferRequest = Type.Object({ from_id: WalletIdValue, to_id: WalletIdValue, amount: AmountValue });
export type TransferRequest = Static<typeof TransferRequest>;
export const DepositRequest = Type.Object({ wallet_id: WalletIdValue, amount: AmountValue });
export type DepositRequest = Static<typeof DepositRequest>;
export const TxAccepted = Type.Object(
  { tx_id: Type.String() },
  {
    description: 'accepted and logged (PENDING); a repeat under the same Idempotency-Key carries the same tx_id; follow it in the wallet’s history',
  },
);
export type TxAccepted = Static<typeof TxAccepted>;

export const TxStatus = Type.Union(
  [Type.Literal('PENDING'), Type.Literal('PROCESSING'), Type.Literal('INVALID'), Type.Literal('FAILED'), Type.Literal('SUCCESSFUL')],
  { description: 'PENDING: accepted · PROCESSING: on the shards · INVALID: impossible (see note) · FAILED: a shard did not confirm in time · SUCCESSFUL' },
);
export type TxStatus = Static<typeof TxStatus>;

export const HistoryEntry = Type.Object({
  tx_id: Type.String(),
  wallet_id: Type.String(),
  kind: Type.Union([Type.Literal('deposit'), Type.Literal('transfer')]),
  counterparty: Type.Optional(Type.String({ description: "transfers only: the other wallet's id (receiver of an outgoing, sender of an incoming one)" })),
  amount: Type.String({ description: 'signed, two decimals: "+50.00" in, "-50.00" out' }),
  status: TxStatus,
  note: Type.String({ description: 'what the status means, e.g. `not enough funds in the wallet`' }),
  initiated_at: Type.String({ format: 'date-time', description: 'when it was accepted; entries are in this order (ties: acceptance order)' }),
});
export type HistoryEntry = Static<typeof HistoryEntry>;

export const WalletBalance = Type.Object({
  wallet_id: Type.String(),
  balance: Type.Number({ description: `includes reserved; at most ${formatUnits(MAX_BALANCE_HUNDREDTHS)} (a credit that would pass it is INVALID)` }),
  reserved: Type.Number({ description: 'held by transfers in progress; what can be sent is balance − reserved' }),
});
export type WalletBalance = Static<typeof WalletBalance>;

export const WalletListItem = Type.Object({
  wallet_id: Type.String(),
  status: Type.Union([Type.Literal('CREATING'), Type.Literal('ACTIVE')], { description: 'CREATING until its shard has acknowledged the wallet' }),
  balance: Type.Number(),
  reserved: Type.Number({ description: 'held by transfers in progress' }),
  created_at: Type.String({ format: 'date-time' }),
});
export type WalletListItem = Static<typeof WalletListItem>;

export const WalletParams = Type.Object({ id: Type.String({ description: 'wallet id (decimal digits)' }) });

/** 1–255 visible ASCII characters; anything else is 400 and nothing happens. */
export const IDEMPOTENCY_KEY_PATTERN = '^[!-~]{1,255}$';
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(
    Type.String({
      pattern: IDEMPOTENCY_KEY_PATTERN,
      description:
        'Makes a retry safe: a repeat with the same key and request (from the same caller, within 24 h) is answered as the first was and does nothing again; the same key with another request is 422. 1–255 visible ASCII characters; without it every request is new.',
    }),
  ),
});

/**
 * The `note` of each status a history entry can show. Where each refusal is decided: the
 * transfer state machine (machine.ts: `decide`, `localOutcome`, `afterCancel`).
 */
export const NOTES = {
  pending: 'transaction accepted, waiting to be processed',
  processing: 'transaction in processing',
  successful: 'transaction completed',
  insufficientFunds: 'not enough funds in the wallet',
  unknownReceiver: 'receiving wallet does not exist',
  unknownSender: 'sending wallet does not exist',
  balanceLimit: 'the receiving wallet would exceed its maximum balance',
  limitExceeded: 'transaction confirmation limit exceeded',
  conflict: 'transaction id already used by another operation',
} as const;

export const orchestratorOutcomes = outcomes({
  /** The message names the field (from_id, to_id, wallet_id). */
  wallet_id_invalid: { status: 400, message: 'wallet id must be a string of decimal digits' },
  amount_invalid: { status: 400, message: 'amount must be a positive decimal with at most 2 fraction digits' },
  amount_too_large: { status: 400, message: `amount must be at most ${formatUnits(MAX_AMOUNT_HUNDREDTHS)}` },
  same_wallet: { status: 400, message: 'from_id and to_id must be different wallets' },
  wallet_taken: { status: 409, message: 'wallet id is already taken' },
  not_your_sender: { status: 403, message: 'from_id is not one of your wallets' },
  wallet_forbidden: { status: 403, message: 'wallet belongs to another user' },
  wallet_not_found: { status: 404, message: 'wallet not found' },
  key_reused: { status: 422, message: 'idempotency key reused with a different request' },
  shard_unavailable: { status: 503, message: 'the wallet’s shard is not answering; try again' },
  operator_token_required: { status: 401, message: 'operator token required (Authorization: Bearer <ADMIN_TOKEN>)' },
  deposits_disabled: { status: 403, message: 'deposits are disabled: ADMIN_TOKEN is not set' },
  wrong_operator_token: { status: 403, message: 'wrong operator token' },
});
