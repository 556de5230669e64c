import type { OrderRow, UserSnapshot } from './store.js';

export interface ReadModelOptions {
  /** Longest time a snapshot is served from memory, however quiet its user's notifications are. */
  ttlMs: number;
  /** Snapshots kept at most; the least recently loaded go first. */
  maxUsers: number;
  /** Orders kept over all snapshots at most (memory bound); users with more than `maxOrdersPerUser` are never kept. */
  maxOrders: number;
  maxOrdersPerUser: number;
  now?: () => number;
}

interface Entry {
  snapshot: UserSnapshot;
  loadedAt: number;
}

interface Load {
  promise: Promise<UserSnapshot | undefined>;
  /** Set when the user changed while the load was under way: its answer is not kept. */
  stale: boolean;
}

/**
 * Each signed-in user's balance and orders, kept in memory between writes so that a client
 * polling them costs no database round trip. One snapshot per user, read by one statement, so
 * balance and orders are always of the same moment.
 *
 * Correctness rests on invalidation, never on expiry alone:
 * - a write made through this process invalidates its user before it is answered, so a client
 *   always reads its own writes here;
 * - writes from anywhere else (other instances, the accrual poller) reach `invalidate` through
 *   PostgreSQL notifications, within the notification delay;
 * - until notifications are known to be delivered (`enable`), and from the moment their
 *   connection is lost (`disable`), nothing is kept and every read goes to the database;
 * - a load that was under way when its user changed is answered but not kept;
 * - `ttlMs` bounds how old a snapshot can be if all of the above failed silently.
 */
export class UserReadModel {
  private readonly entries = new Map<number, Entry>();
  private readonly loads = new Map<number, Load>();
  private enabled = false;
  private cachedOrders = 0;
  private readonly now: () => number;

  constructor(
    private readonly load: (userId: number, maxOrders: number) => Promise<UserSnapshot | undefined>,
    private readonly options: ReadModelOptions,
  ) {
    this.now = options.now ?? (() => performance.now());
  }

  get active(): boolean {
    return this.enabled;
  }

  get size(): number {
    return this.entries.size;
  }

  /** Notifications are delivered from now on: snapshots may be kept. */
  enable(): void {
    this.enabled = true;
  }

  /** Notifications may be missed: drop everything and keep nothing until `enable`. */
  disable(): void {
    this.enabled = false;
    this.clear();
  }

  /** The user changed (or may have): the next read loads a fresh snapshot. */
  invalidate(userId: number): void {
    this.drop(userId);
    const load = this.loads.get(userId);
    if (load) {
      load.stale = true;
      this.loads.delete(userId);
    }
  }

  async balance(userId: number): Promise<{ balance: number; withdrawn: number } | undefined> {
    return (await this.snapshot(userId))?.balance;
  }

  /** The user's orders, oldest first; undefined for a user this process cannot keep (too many orders, or unknown). */
  async orders(userId: number): Promise<OrderRow[] | undefined> {
    return (await this.snapshot(userId))?.orders;
  }

  /** The current snapshot: from memory when kept and fresh, else loaded (one load per user at a time). */
  snapshot(userId: number): Promise<UserSnapshot | undefined> {
    if (!this.enabled) return this.load(userId, this.options.maxOrdersPerUser);
    const entry = this.entries.get(userId);
    if (entry) {
      if (this.now() - entry.loadedAt < this.options.ttlMs) return Promise.resolve(entry.snapshot);
      this.drop(userId);
    }
    const pending = this.loads.get(userId);
    if (pending) return pending.promise;
    const startedAt = this.now();
    const load: Load = { stale: false, promise: this.load(userId, this.options.maxOrdersPerUser) };
    this.loads.set(userId, load);
    load.promise.then(
      (snapshot) => {
        if (this.loads.get(userId) === load) this.loads.delete(userId);
        if (snapshot && !load.stale && this.enabled) this.keep(userId, snapshot, startedAt);
      },
      () => {
        if (this.loads.get(userId) === load) this.loads.delete(userId);
      },
    );
    return load.promise;
  }

  private keep(userId: number, snapshot: UserSnapshot, loadedAt: number): void {
    if (snapshot.orders === undefined) return;
    this.drop(userId);
    this.entries.set(userId, { snapshot, loadedAt });
    this.cachedOrders += snapshot.orders.length;
    // a Map iterates in insertion order: the first entries are the least recently loaded
    for (const [id] of this.entries) {
      if (this.entries.size <= this.options.maxUsers && this.cachedOrders <= this.options.maxOrders) break;
      this.drop(id);
    }
  }

  private drop(userId: number): void {
    const entry = this.entries.get(userId);
    if (!entry) return;
    this.entries.delete(userId);
    this.cachedOrders -= entry.snapshot.orders?.length ?? 0;
  }

  private clear(): void {
    this.entries.clear();
    this.cachedOrders = 0;
    for (const load of this.loads.values()) load.stale = true;
    this.loads.clear();
  }
}
