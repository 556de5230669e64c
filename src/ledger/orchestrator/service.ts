import { createHash, randomUUID } from 'node:crypto';
import { PasswordAccounts } from '../../kernel/auth/accounts.js';
import { NOTES, shardOf } from './machine.js';
import type { Coordinator, WalletToCreate } from './coordinator.js';
import type { EarlierRequest } from './idempotency-store.js';
import type { ShardClient } from './shard-client.js';
import type { IdempotencyClaim, OrchestratorStore, LogEntry, NewTx, OwnedWallet, WalletRow } from './store.js';
import type { Outcome } from './machine.js';

export type Access = { ok: true; wallet: WalletRow } | { ok: false; reason: 'wallet_not_found' | 'wallet_forbidden' };

/** Who sent a request that carries an Idempotency-Key: keys of different callers never meet. */
export type Caller = { user: number } | { operatorToken: string };

/** A request's Idempotency-Key and who sent it. */
export interface IdempotencyKey {
  caller: Caller;
  key: string;
}

/** Refusal reasons are the names of their outcomes in the contract (contract.ts: orchestratorOutcomes). */
export type Accepted<Refusal extends string> = { ok: true; txId: string } | { ok: false; reason: Refusal | 'key_reused' };

export interface WalletView {
  id: string;
  status: 'CREATING' | 'ACTIVE';
  balance: number;
  reserved: number;
  createdAt: Date;
}

const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

function scopeOf(caller: Caller): string {
  // the operator token itself never reaches the database, only its hash
  return 'user' in caller ? `user:${caller.user}` : `admin:${sha256(caller.operatorToken)}`;
}

/** The answer an earlier request under the key gives a repeat: its id, its kept refusal, or 422 when the request differs. */
function answerOf<R extends string>(earlier: EarlierRequest, claim: IdempotencyClaim, refusals: readonly R[]): Accepted<R> {
  if (earlier.fingerprint !== claim.fingerprint) return { ok: false, reason: 'key_reused' };
  if (earlier.txId !== null) return { ok: true, txId: earlier.txId };
  const refusal = refusals.find((r) => r === earlier.refusal);
  return refusal ? { ok: false, reason: refusal } : { ok: false, reason: 'key_reused' };
}

/** The key as stored: the request is identified by its normalised parameters, not its bytes. */
function claimOf(idem: IdempotencyKey, ...request: Array<string | number>): IdempotencyClaim {
  return { scope: scopeOf(idem.caller), key: idem.key, fingerprint: sha256(request.join('\n')) };
}

/** Use cases of the orchestrator: no HTTP, no SQL. */
export class OrchestratorService {
  readonly accounts: PasswordAccounts;

  constructor(
    private readonly store: OrchestratorStore,
    private readonly shards: ShardClient,
    private readonly coordinator: Coordinator,
  ) {
    this.accounts = new PasswordAccounts(store);
  }

  /**
   * Registers the id (the registry's primary key decides races), then asks its shard once;
   * if the shard does not acknowledge now, the recovery sweep finishes the creation. Creating
   * a wallet the caller already owns is accepted again (idempotent by wallet id).
   */
  async createWallet(userId: number, walletId: string, idem?: IdempotencyKey): Promise<'accepted' | 'wallet_taken' | 'unknown_user' | 'key_reused'> {
    if (idem) {
      const claim = claimOf(idem, 'create_wallet', walletId);
      const earlier = await this.store.keys.claim(claim);
      // a repeat of the same creation is simply run again: its answer depends only on who owns the id
      if (earlier && earlier.fingerprint !== claim.fingerprint) return 'key_reused';
    }
    const shard = shardOf(walletId, this.shards.count);
    const registered = await this.store.registerWallet(walletId, userId, shard);
    if (registered === 'taken') return 'wallet_taken';
    if (registered === 'unknown_user') return registered;
    if (registered === 'created' || (await this.store.wallet(walletId))?.state === 'creating')
      await this.coordinator.finishCreation({ id: walletId, shard }, 'member');
    return 'accepted';
  }

  /** The caller's wallets, oldest first, with their balances from the shards; unavailable when a shard does not answer. */
  async wallets(userId: number): Promise<WalletView[] | 'unavailable'> {
    const owned = await this.store.walletsOf(userId);
    const views = await Promise.all(owned.map((w) => this.view(w)));
    return views.some((v) => v === undefined) ? 'unavailable' : (views as WalletView[]);
  }

  private async view(w: OwnedWallet): Promise<WalletView | undefined> {
    // a wallet its shard has not acknowledged yet holds nothing there: no need to ask
    if (w.state === 'creating') return { id: w.id, status: 'CREATING', balance: 0, reserved: 0, createdAt: w.created_at };
    const answer = await this.shards.wallet(w.shard, w.id);
    if (answer.result !== 'ok') return undefined;
    return { id: w.id, status: 'ACTIVE', balance: answer.balance, reserved: answer.reserved, createdAt: w.created_at };
  }

  async access(userId: number, walletId: string): Promise<Access> {
    const wallet = await this.store.wallet(walletId);
    if (!wallet) return { ok: false, reason: 'wallet_not_found' };
    if (wallet.owner_id !== userId) return { ok: false, reason: 'wallet_forbidden' };
    return { ok: true, wallet };
  }

  /**
   * Logs the transfer (PENDING, or INVALID at once when the receiver is unknown) and hands it
   * to the coordinator; the caller answers 202 with the id. With an Idempotency-Key, a repeat
   * of an accepted request is answered with the first one's id and logs nothing, a repeat of a
   * refused one with the same refusal.
   */
  async transfer(userId: number, from: string, to: string, amount: number, idem?: IdempotencyKey): Promise<Accepted<'not_your_sender'>> {
    const claim = idem && claimOf(idem, 'do_transaction', from, to, amount);
    const answered = claim && (await this.earlierAnswer<'not_your_sender'>(claim, ['not_your_sender']));
    if (answered) return answered;
    const wallets = await this.store.walletsByIds([from, to]);
    const sender = wallets.find((w) => w.id === from);
    const receiver = wallets.find((w) => w.id === to);
    if (!sender || sender.owner_id !== userId) return this.refused(claim, 'not_your_sender', ['not_your_sender']);
    const tx: NewTx = {
      tx_id: randomUUID(),
      kind: 'transfer',
      from_wallet: from,
      to_wallet: to,
      from_shard: sender.shard,
      to_shard: receiver?.shard ?? shardOf(to, this.shards.count),
      amount,
    };
    const invalid: Outcome | undefined = receiver ? undefined : { status: 'INVALID', note: NOTES.unknownReceiver };
    return this.log(tx, invalid, claim, receiver ? creating([sender, receiver]) : undefined, ['not_your_sender']);
  }

  /** Operator deposit: the same log and pipeline as a transfer, without a sender. */
  async deposit(walletId: string, amount: number, idem?: IdempotencyKey): Promise<Accepted<'wallet_not_found'>> {
    const claim = idem && claimOf(idem, 'deposit', walletId, amount);
    const answered = claim && (await this.earlierAnswer<'wallet_not_found'>(claim, ['wallet_not_found']));
    if (answered) return answered;
    const wallet = await this.store.wallet(walletId);
    if (!wallet) return this.refused(claim, 'wallet_not_found', ['wallet_not_found']);
    const tx: NewTx = { tx_id: randomUUID(), kind: 'deposit', from_wallet: null, to_wallet: walletId, from_shard: null, to_shard: wallet.shard, amount };
    return this.log(tx, undefined, claim, creating([wallet]), ['wallet_not_found']);
  }

  /**
   * What an earlier request under this key was answered, when there was one: its transfer id,
   * its refusal, or 422 for another request. Undefined: the key is new, judge the request.
   */
  private async earlierAnswer<R extends string>(claim: IdempotencyClaim, refusals: readonly R[]): Promise<Accepted<R> | undefined> {
    const earlier = await this.store.keys.find(claim.scope, claim.key);
    return earlier && answerOf(earlier, claim, refusals);
  }

  /**
   * A refusal after judging the request (not a malformed one): kept under its key, so a repeat
   * is answered the same however the wallets change meanwhile. If a racing request under the
   * key was kept first, its answer is the answer.
   */
  private async refused<R extends string>(claim: IdempotencyClaim | undefined, reason: R, refusals: readonly R[]): Promise<Accepted<R>> {
    if (!claim) return { ok: false, reason };
    const earlier = await this.store.keys.claim(claim, reason);
    return earlier ? answerOf(earlier, claim, refusals) : { ok: false, reason };
  }

  /**
   * Logs the transaction and, unless it is final already, hands it to the coordinator. If its
   * key was taken meanwhile (a racing repeat), the request that took it decides the answer,
   * one of the route's `refusals` included.
   */
  private async log<R extends string>(
    tx: NewTx,
    invalid: Outcome | undefined,
    claim: IdempotencyClaim | undefined,
    create: WalletToCreate[] | undefined,
    refusals: readonly R[],
  ): Promise<Accepted<R>> {
    const logged = await this.store.insertTransaction(tx, invalid, claim);
    if (!logged.fresh) return claim ? answerOf(logged.earlier, claim, refusals) : { ok: false, reason: 'key_reused' };
    if (create) this.coordinator.submit(logged.record, create, true);
    return { ok: true, txId: tx.tx_id };
  }

  walletLog(walletId: string): Promise<LogEntry[]> {
    return this.store.walletLog(walletId);
  }

  /** Balance as its shard holds it; a creation still unacknowledged is finished first. */
  async balance(wallet: WalletRow): Promise<{ balance: number; reserved: number } | 'unavailable'> {
    if (wallet.state === 'creating' && !(await this.coordinator.finishCreation({ id: wallet.id, shard: wallet.shard }, 'member'))) return 'unavailable';
    const answer = await this.shards.wallet(wallet.shard, wallet.id);
    if (answer.result !== 'ok') return 'unavailable';
    return { balance: answer.balance, reserved: answer.reserved };
  }
}

function creating(wallets: WalletRow[]): WalletToCreate[] {
  return wallets.filter((w) => w.state === 'creating').map((w) => ({ id: w.id, shard: w.shard }));
}
