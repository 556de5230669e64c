import { Pool } from 'undici';
import { parseServiceUrl } from '../../kernel/address.js';
import type { Logger } from '../../kernel/logger.js';
import {
  shardPaths,
  type CancelResult,
  type ConfirmResult,
  type CreateWalletResult,
  type HoldKind,
  type OperationResult,
  type WalletResult,
} from '../protocol.js';
import type { Answer } from './machine.js';

/**
 * HTTP client of the shards: one keep-alive pool per shard, every call bounded by a timeout.
 * Never throws: a timeout or any failure is an answer (`timeout` / `error`) the state machine
 * understands.
 */
export class ShardClient {
  private readonly pools: Pool[];

  constructor(
    addresses: readonly string[],
    private readonly token: string,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    connections = 64,
  ) {
    this.pools = addresses.map((a) => new Pool(parseServiceUrl(a), { connections, keepAliveTimeout: 30_000, pipelining: 1 }));
  }

  get count(): number {
    return this.pools.length;
  }

  private async call<T>(shard: number, method: 'GET' | 'POST', path: string, body?: object): Promise<Answer<T>> {
    const pool = this.pools[shard];
    if (!pool) throw new RangeError(`no shard ${shard}`);
    const signal = AbortSignal.timeout(this.timeoutMs);
    try {
      const res = await pool.request({
        method,
        path,
        headers: { authorization: `Bearer ${this.token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        ...(body ? { body: JSON.stringify(body) } : {}),
        signal,
        headersTimeout: this.timeoutMs,
        bodyTimeout: this.timeoutMs,
      });
      const text = await res.body.text();
      if (res.statusCode !== 200) {
        this.logger.warn({ shard, path, status: res.statusCode }, 'shard refused a request');
        return { result: 'error' };
      }
      return JSON.parse(text) as T;
    } catch (err) {
      const timedOut = signal.aborted || (err as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT' || (err as { code?: string }).code === 'UND_ERR_BODY_TIMEOUT';
      this.logger.debug({ shard, path, err: (err as Error).message }, timedOut ? 'shard timed out' : 'shard unreachable');
      return { result: timedOut ? 'timeout' : 'error' };
    }
  }

  createWallet(shard: number, walletId: string): Promise<Answer<CreateWalletResult>> {
    return this.call(shard, 'POST', shardPaths.wallets, { wallet_id: walletId });
  }

  wallet(shard: number, walletId: string): Promise<Answer<WalletResult>> {
    return this.call(shard, 'GET', shardPaths.wallet(walletId));
  }

  reserve(shard: number, txId: string, walletId: string, kind: HoldKind, amount: number): Promise<Answer<OperationResult>> {
    return this.call(shard, 'POST', shardPaths.reserve(txId), { wallet_id: walletId, kind, amount });
  }

  confirm(shard: number, txId: string): Promise<Answer<ConfirmResult>> {
    return this.call(shard, 'POST', shardPaths.confirm(txId));
  }

  cancel(shard: number, txId: string): Promise<Answer<CancelResult>> {
    return this.call(shard, 'POST', shardPaths.cancel(txId));
  }

  transfer(shard: number, txId: string, from: string, to: string, amount: number): Promise<Answer<OperationResult>> {
    return this.call(shard, 'POST', shardPaths.transfer(txId), { from_id: from, to_id: to, amount });
  }

  deposit(shard: number, txId: string, walletId: string, amount: number): Promise<Answer<OperationResult>> {
    return this.call(shard, 'POST', shardPaths.deposit(txId), { wallet_id: walletId, amount });
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy().catch(() => undefined)));
  }
}
