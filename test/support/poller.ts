import postgres from 'postgres';
import { AccrualClient } from '../../src/gophermart/accrual-client.js';
import { migrations, SCHEMA } from '../../src/gophermart/migrations.js';
import type { PollerObserver, SettledOrder } from '../../src/gophermart/poller.js';
import type { GophermartStore } from '../../src/gophermart/store.js';
import type { Database } from '../../src/kernel/db/database.js';
import { migrate } from '../../src/kernel/db/migrate.js';
import { openDatabase } from '../../src/kernel/db/open.js';
import { FakeAccrual } from './fake-accrual.js';
import { call, signUp, uniqueLogin } from './http.js';
import { freshDatabase, type FreshDatabase } from './postgres.js';
import { startBin, type ServiceProcess } from './process.js';

export async function newUser(base: string): Promise<{ login: string; token: string }> {
  const login = uniqueLogin('poll');
  return { login, token: await signUp(base, login) };
}

export async function upload(base: string, token: string, number: string): Promise<void> {
  const r = await call(base, 'POST', '/api/user/orders', { body: number, token, headers: { 'content-type': 'text/plain' } });
  if (r.status !== 202) throw new Error(`upload ${number}: ${r.status} ${r.text}`);
}

export interface OrderState {
  status: string;
  accrual: number;
  poll_attempts: number;
  claimed_until: Date | null;
  next_poll_at: Date;
}

/** Direct read access to the gophermart schema, for assertions the API cannot express. */
export function inspect(url: string) {
  const sql = postgres(url, { max: 2, onnotice: () => undefined, types: { bigint: postgres.BigInt } });
  return {
    sql,
    async order(number: string): Promise<OrderState | undefined> {
      const rows = await sql<{ status: string; accrual: bigint; poll_attempts: number; claimed_until: Date | null; next_poll_at: Date }[]>`
        select status, accrual, poll_attempts, claimed_until, next_poll_at from gophermart.orders where number = ${number}`;
      const r = rows[0];
      return r ? { ...r, accrual: Number(r.accrual) } : undefined;
    },
    async balance(login: string): Promise<number> {
      const rows = await sql<{ balance: bigint }[]>`select balance from gophermart.users where login = ${login}`;
      return Number(rows[0]?.balance ?? -1);
    },
    async statusIs(number: string, status: string): Promise<OrderState | undefined> {
      const o = await this.order(number);
      return o?.status === status ? o : undefined;
    },
    close: () => sql.end({ timeout: 1 }),
  };
}

/**
 * The gophermart schema on the database at `url`, a store over it (`makeStore`: the class, or a
 * subclass that watches its calls) and one member who owns the orders: what a poller run
 * in-process needs.
 */
export async function openPollerStore<S extends GophermartStore>(
  url: string,
  login: string,
  makeStore: (db: Database) => S,
): Promise<{ db: Database; store: S; userId: number }> {
  const db = await openDatabase({ url, embeddedDir: 'unused', poolSize: 4, applicationName: login });
  await migrate(db, SCHEMA, migrations);
  const store = makeStore(db);
  const userId = await store.createUser(login, 'not-a-real-hash');
  if (userId === null) throw new Error(`login ${login} is taken`);
  return { db, store, userId };
}

/** What a poller run in-process asks through: a fake accrual service and a client of it. */
export interface InProcessAccrual {
  fake: FakeAccrual;
  client: AccrualClient;
  close(): Promise<void>;
}

export async function startInProcessAccrual(options: { accrualTimeoutMs: number; pollConcurrency: number }): Promise<InProcessAccrual> {
  const fake = await FakeAccrual.start();
  const client = new AccrualClient(fake.url, { timeoutMs: options.accrualTimeoutMs, connections: options.pollConcurrency });
  return {
    fake,
    client,
    async close() {
      await client.close();
      await fake.close();
    },
  };
}

/** bin/gophermart on a fresh database, polling a scriptable fake accrual service. */
export interface PollerRig {
  db: FreshDatabase;
  fake: FakeAccrual;
  gm: ServiceProcess;
  look: ReturnType<typeof inspect>;
  close(): Promise<void>;
}

export async function startPollerRig(env: Record<string, string>): Promise<PollerRig> {
  const db = await freshDatabase('gm_poll');
  const fake = await FakeAccrual.start();
  const gm = await startBin('gophermart', { DATABASE_URI: db.url, ACCRUAL_SYSTEM_ADDRESS: fake.url, ...env });
  const look = inspect(db.url);
  return {
    db,
    fake,
    gm,
    look,
    async close() {
      await gm.stop();
      await look.close();
      await fake.close();
      await db.drop();
    },
  };
}

type Round = Parameters<NonNullable<PollerObserver['round']>>[0];

/** Collects the poller's reports and lets a test wait for one that matches. */
export class Reports implements PollerObserver {
  readonly rounds: Round[] = [];
  readonly settledOrders: SettledOrder[] = [];
  private waiters: { check: () => boolean; resolve: () => void }[] = [];

  round(r: Round): void {
    this.rounds.push(r);
    this.notify();
  }
  settled(o: SettledOrder): void {
    this.settledOrders.push(o);
    this.notify();
  }
  of(number: string): SettledOrder[] {
    return this.settledOrders.filter((o) => o.number === number);
  }
  /** Resolves once `check` holds after some report; fails after `timeoutMs`. */
  until(what: string, check: () => boolean, timeoutMs = 15_000): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)), timeoutMs);
      this.waiters.push({
        check,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }
  private notify(): void {
    for (const w of [...this.waiters]) {
      if (!w.check()) continue;
      this.waiters = this.waiters.filter((x) => x !== w);
      w.resolve();
    }
  }
}
