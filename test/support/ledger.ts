import { configWith } from '../../src/kernel/config.js';
import { createLogger } from '../../src/kernel/logger.js';
import { orchestratorSettings, type OrchestratorConfig } from '../../src/ledger/orchestrator/config.js';
import type { HistoryEntry } from '../../src/ledger/orchestrator/contract.js';
import type { Coordinator, CoordinatorEvent } from '../../src/ledger/orchestrator/coordinator.js';
import { startOrchestrator, type OrchestratorRunning } from '../../src/ledger/orchestrator/main.js';
import { shardSettings } from '../../src/ledger/shard/config.js';
import { startShard, type ShardRunning } from '../../src/ledger/shard/main.js';
import { createServer as createHttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { call } from './http.js';
import { freshDatabase, type FreshDatabase } from './postgres.js';
import { freePort } from './process.js';

export const SHARD_TOKEN = 'ledger-test-shard-token';
export const ADMIN_TOKEN = 'ledger-test-admin-token';

export interface LedgerUnderTest {
  url: string;
  orchestrator: OrchestratorRunning;
  shards: Array<ShardRunning | null>;
  shardDbs: FreshDatabase[];
  shardPorts: number[];
  ledgerDb: FreshDatabase;
  /** Another orchestrator instance on the same ledger database and shards (stopped by stop()). */
  addOrchestrator(over?: Partial<OrchestratorConfig>): Promise<OrchestratorRunning>;
  startShardAt(i: number): Promise<void>;
  /** The shard process gone: its port refuses connections. */
  stopShard(i: number): Promise<void>;
  /**
   * The shard frozen (SIGSTOP, a paused container): its port accepts connections and answers
   * nothing, so the orchestrator cannot know whether a call reached it. startShardAt ends it.
   */
  freezeShard(i: number): Promise<void>;
  /**
   * The shard's database away for a moment: from the next request to the shard on, for `forMs`
   * (0: that request alone), every request is answered the 503 `database unavailable` a shard
   * gives then, and the shard is back right after. `back` resolves once it serves again.
   */
  blipShardDatabase(i: number, forMs?: number): Promise<{ back: Promise<void> }>;
  stop(): Promise<void>;
}

/** A listener that accepts connections and never answers on them. */
async function silentListener(port: number): Promise<{ close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * An orchestrator and N shards in this process, each on its own fresh PostgreSQL database and
 * its own loopback port (fixed, so a stopped shard comes back where the orchestrator expects).
 */
export async function startLedger(n: number, over: Partial<OrchestratorConfig> = {}): Promise<LedgerUnderTest> {
  const logger = createLogger('ledger-test', 'silent');
  const shardDbs = await Promise.all(Array.from({ length: n }, () => freshDatabase('ledger_shard')));
  const ledgerDb = await freshDatabase('ledger_orch');
  const shardPorts = await Promise.all(shardDbs.map(() => freePort()));
  const shards: Array<ShardRunning | null> = shardDbs.map(() => null);
  const frozen = new Map<number, { close(): Promise<void> }>();
  const startShardAt = async (i: number): Promise<void> => {
    await frozen.get(i)?.close();
    frozen.delete(i);
    const config = configWith(shardSettings, {
      address: `127.0.0.1:${shardPorts[i]}`,
      databaseUri: shardDbs[i]?.url,
      databasePoolSize: 4,
      shardToken: SHARD_TOKEN,
    });
    shards[i] = await startShard(config, { logger });
  };
  for (let i = 0; i < n; i++) await startShardAt(i);
  const orchestratorConfig = (extra: Partial<OrchestratorConfig>): OrchestratorConfig =>
    configWith(orchestratorSettings, {
      address: '127.0.0.1:0',
      databaseUri: ledgerDb.url,
      databasePoolSize: 6,
      shards: shardPorts.map((p) => `127.0.0.1:${p}`),
      shardToken: SHARD_TOKEN,
      adminToken: ADMIN_TOKEN,
      ...over,
      ...extra,
    });
  const orchestrator = await startOrchestrator(orchestratorConfig({}), { logger });
  const others: OrchestratorRunning[] = [];
  return {
    url: orchestrator.url,
    orchestrator,
    shards,
    shardDbs,
    shardPorts,
    ledgerDb,
    async addOrchestrator(extra = {}) {
      const another = await startOrchestrator(orchestratorConfig(extra), { logger });
      others.push(another);
      return another;
    },
    startShardAt,
    async stopShard(i) {
      await shards[i]?.stop();
      shards[i] = null;
    },
    async blipShardDatabase(i, forMs = 0) {
      await shards[i]?.stop();
      shards[i] = null;
      let answered: () => void = () => undefined;
      const over = new Promise<void>((resolve) => (answered = resolve));
      let first = true;
      const server = createHttpServer((_request, reply) => {
        reply.writeHead(503, { 'content-type': 'application/json; charset=utf-8', connection: 'close' });
        reply.end(JSON.stringify({ error: 'database unavailable' }));
        if (first) setTimeout(answered, forMs);
        first = false;
      });
      await new Promise<void>((resolve) => server.listen(shardPorts[i], '127.0.0.1', () => resolve()));
      const back = over.then(async () => {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await startShardAt(i);
      });
      return { back };
    },
    async freezeShard(i) {
      await shards[i]?.stop();
      shards[i] = null;
      frozen.set(i, await silentListener(shardPorts[i] as number));
    },
    async stop() {
      for (const f of frozen.values()) await f.close();
      for (const o of others) await o.stop().catch(() => undefined);
      await orchestrator.stop();
      for (const s of shards) await s?.stop();
      await Promise.all([...shardDbs, ledgerDb].map((d) => d.drop()));
    },
  };
}

/** A history entry as the orchestrator's contract defines it. */
export type LogItem = HistoryEntry;

/** Polls a wallet's log until the transaction is final; returns its entry. */
export async function waitFinal(url: string, token: string, walletId: string, txId: string, timeoutMs = 15_000): Promise<LogItem> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(url, 'GET', `/api/user/transactions/${walletId}`, { token });
    const item = r.status === 200 ? (r.json as LogItem[]).find((e) => e.tx_id === txId) : undefined;
    if (item && ['SUCCESSFUL', 'INVALID', 'FAILED'].includes(item.status)) return item;
    if (Date.now() > deadline) throw new Error(`transaction ${txId} not final within ${timeoutMs} ms: ${JSON.stringify(item)}`);
    await new Promise((res) => setTimeout(res, 25));
  }
}

export async function deposit(url: string, walletId: string, amount: string | number): Promise<string> {
  const r = await call(url, 'POST', '/api/admin/deposit', { token: ADMIN_TOKEN, body: { wallet_id: walletId, amount } });
  if (r.status !== 202) throw new Error(`deposit: ${r.status} ${r.text}`);
  return (r.json as { tx_id: string }).tx_id;
}

/** Polls a wallet's log until all the given transactions are final; one request per round. */
export async function waitAllFinal(url: string, token: string, walletId: string, txIds: string[], timeoutMs = 30_000): Promise<LogItem[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await call(url, 'GET', `/api/user/transactions/${walletId}`, { token });
    const items = r.status === 200 ? (r.json as LogItem[]).filter((e) => txIds.includes(e.tx_id)) : [];
    if (items.length === txIds.length && items.every((i) => ['SUCCESSFUL', 'INVALID', 'FAILED'].includes(i.status))) return items;
    if (Date.now() > deadline)
      throw new Error(
        `transactions not final within ${timeoutMs} ms: ${JSON.stringify(items.filter((i) => !['SUCCESSFUL', 'INVALID', 'FAILED'].includes(i.status)))}`,
      );
    await new Promise((res) => setTimeout(res, 50));
  }
}

/**
 * Records a coordinator's events from now on, so a test can wait for one (a decision, a final
 * status, a hand-over to recovery) instead of sleeping and guessing.
 */
export function recordEvents(coordinator: Coordinator): {
  waitFor(what: string, match: (e: CoordinatorEvent) => boolean, timeoutMs?: number): Promise<CoordinatorEvent>;
  seen(): readonly CoordinatorEvent[];
  stop(): void;
} {
  const seen: CoordinatorEvent[] = [];
  const waiters = new Set<() => void>();
  const stop = coordinator.observe((e) => {
    seen.push(e);
    for (const w of waiters) w();
  });
  return {
    stop,
    seen: () => seen,
    waitFor(what, match, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = seen.find(match);
          if (!found) return;
          clearTimeout(timer);
          waiters.delete(check);
          resolve(found);
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no coordinator event "${what}" within ${timeoutMs} ms; saw ${JSON.stringify(seen.slice(-5))}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
  };
}
