import { randomUUID } from 'node:crypto';
import { PasswordAccounts } from '../../kernel/auth/accounts.js';
import { NOTES, shardOf } from './machine.js';
import type { Coordinator, WalletToCreate } from './coordinator.js';
import type { ShardClient } from './shard-client.js';
import type { LedgerStore, LogEntry, TxRecord, WalletRow } from './store.js';

export type Access = { ok: true; wallet: WalletRow } | { ok: false; reason: 'not_found' | 'forbidden' };

/** Use cases of the orchestrator: no HTTP, no SQL. */
export class LedgerService {
  readonly accounts: PasswordAccounts;

  constructor(
    private readonly store: LedgerStore,
    private readonly shards: ShardClient,
    private readonly coordinator: Coordinator,
  ) {
    this.accounts = new PasswordAccounts(store);
  }

  /**
   * Registers the id (the registry's primary key decides races), then asks its shard once;
   * if the shard does not acknowledge now, the recovery sweep finishes the creation.
   */
  async createWallet(userId: number, walletId: string): Promise<'accepted' | 'taken' | 'unknown_user'> {
    const shard = shardOf(walletId, this.shards.count);
    const registered = await this.store.registerWallet(walletId, userId, shard);
    if (registered !== true) return registered === false ? 'taken' : 'unknown_user';
    await this.coordinator.finishCreation({ id: walletId, shard });
    return 'accepted';
  }

  async access(userId: number, walletId: string): Promise<Access> {
    const wallet = await this.store.wallet(walletId);
    if (!wallet) return { ok: false, reason: 'not_found' };
    if (wallet.owner_id !== userId) return { ok: false, reason: 'forbidden' };
    return { ok: true, wallet };
  }

  /**
   * Logs the transfer (PENDING, or INVALID at once when the receiver is unknown) and hands it
   * to the coordinator; the caller answers 202 with the id.
   */
  async transfer(userId: number, from: string, to: string, amount: number): Promise<{ ok: true; txId: string } | { ok: false; reason: 'forbidden' }> {
    const wallets = await this.store.walletsByIds([from, to]);
    const sender = wallets.find((w) => w.id === from);
    const receiver = wallets.find((w) => w.id === to);
    if (!sender || sender.owner_id !== userId) return { ok: false, reason: 'forbidden' };
    const txId = randomUUID();
    const record = await this.store.insertTransaction(
      {
        tx_id: txId,
        kind: 'transfer',
        from_wallet: from,
        to_wallet: to,
        from_shard: sender.shard,
        to_shard: receiver?.shard ?? shardOf(to, this.shards.count),
        amount,
      },
      receiver ? undefined : { status: 'INVALID', note: NOTES.unknownReceiver },
    );
    if (receiver) this.coordinator.submit(record, creating([sender, receiver]));
    return { ok: true, txId };
  }

  /** Operator deposit: the same log and pipeline as a transfer, without a sender. */
  async deposit(walletId: string, amount: number): Promise<{ ok: true; txId: string } | { ok: false; reason: 'not_found' }> {
    const wallet = await this.store.wallet(walletId);
    if (!wallet) return { ok: false, reason: 'not_found' };
    const record = await this.store.insertTransaction({
      tx_id: randomUUID(),
      kind: 'deposit',
      from_wallet: null,
      to_wallet: walletId,
      from_shard: null,
      to_shard: wallet.shard,
      amount,
    });
    this.coordinator.submit(record, creating([wallet]));
    return { ok: true, txId: record.tx_id };
  }

  walletLog(walletId: string): Promise<LogEntry[]> {
    return this.store.walletLog(walletId);
  }

  /** Balance as its shard holds it; a creation still unacknowledged is finished first. */
  async balance(wallet: WalletRow): Promise<{ balance: number; reserved: number } | 'unavailable'> {
    if (wallet.state === 'creating' && !(await this.coordinator.finishCreation({ id: wallet.id, shard: wallet.shard }))) return 'unavailable';
    const answer = await this.shards.wallet(wallet.shard, wallet.id);
    if (answer.result !== 'ok') return 'unavailable';
    return { balance: answer.balance, reserved: answer.reserved };
  }

  transaction(txId: string): Promise<TxRecord | undefined> {
    return this.store.transaction(txId);
  }
}

function creating(wallets: WalletRow[]): WalletToCreate[] {
  return wallets.filter((w) => w.state === 'creating').map((w) => ({ id: w.id, shard: w.shard }));
}
