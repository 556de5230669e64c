import { isDatabaseUnavailable } from '../../kernel/db/unavailable.js';
import { sleep } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import type { Coordinator, WalletToCreate } from './coordinator.js';
import type { OrchestratorStore } from './store.js';

const BATCH = 500;
/** Idempotency keys are kept at least this long (then swept): a day of safe retries. */
export const IDEMPOTENCY_RETENTION_MS = 24 * 3_600_000;
const KEY_SWEEP_EVERY_MS = 60_000;

/**
 * The recovery loop: at start-up and then every `intervalMs`, finishes wallet creations the
 * shards have not acknowledged and hands to the coordinator every unfinished transaction that
 * this instance owns but is not running, or whose owner's lease ran out (that instance is
 * gone) — taking it over first. A transaction another live instance holds is left alone. The
 * coordinator resumes each from its recorded state. Idempotency keys past their retention
 * (and instances gone for as long) are swept here too.
 */
export class Recovery {
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | null = null;
  private lastKeySweep = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly store: OrchestratorStore,
    private readonly coordinator: Coordinator,
    private readonly logger: Logger,
    private readonly intervalMs: number,
    /** Whether transactions of instances whose lease ran out may be taken over now (LeaseKeeper.mayTakeOver). */
    private readonly mayTakeOver: () => boolean,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopSignal.signal.aborted) {
        try {
          await this.sweep();
        } catch (err) {
          // an outage is logged once by the database layer, not on every sweep
          if (!isDatabaseUnavailable(err)) this.logger.error({ err }, 'recovery sweep failed');
        }
        await sleep(this.intervalMs, this.stopSignal.signal);
      }
    })();
  }

  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.loop;
  }

  /** One pass; returns how many transactions it handed over. */
  async sweep(): Promise<number> {
    const stillCreating = await this.finishCreations();
    if (stillCreating === undefined) return 0;
    let submitted = 0;
    // first what this instance owns but does not run (handed back, or beyond its backlog), then
    // what instances that are gone left behind; right after this instance's own lease lapsed,
    // when a live instance's lease may look run out until its next heartbeat, only what a clean
    // stop gave up
    const onlyUnowned = !this.mayTakeOver();
    const pages = [
      (after: number) => this.store.leases.ownUnfinished(BATCH, after),
      (after: number) => this.store.leases.takeOverExpired(BATCH, after, onlyUnowned),
    ];
    for (const page of pages) {
      let afterSeq = 0;
      for (;;) {
        const rows = await page(afterSeq);
        for (const { seq, record } of rows) {
          if (this.stopSignal.signal.aborted) return submitted;
          afterSeq = seq;
          if (this.coordinator.has(record.tx_id)) continue;
          const wallets = record.type === 'deposit' ? [record.to_wallet] : [record.from_wallet, record.to_wallet];
          const create = wallets.flatMap((id) => stillCreating.get(id) ?? []);
          if (this.coordinator.submit(record, create)) submitted++;
        }
        if (rows.length < BATCH) break;
      }
    }
    if (submitted > 0) this.logger.info({ submitted }, 'recovery resumed unfinished transactions');
    await this.sweepKeys();
    return submitted;
  }

  /**
   * Finishes the wallet creations the shards have not acknowledged, all of them, page by page;
   * returns those still unacknowledged (a transaction involving one must create it first), or
   * undefined when stopped. A shard that failed one creation is not asked for the rest in this
   * pass: a silent one would otherwise hold the sweep for CONFIRMATION_LIMIT per wallet.
   */
  private async finishCreations(): Promise<Map<string, WalletToCreate> | undefined> {
    const stillCreating = new Map<string, WalletToCreate>();
    const failing = new Set<number>();
    for (let afterId = ''; ; ) {
      const page = await this.store.walletsBeingCreated(BATCH, afterId);
      for (const w of page) {
        if (this.stopSignal.signal.aborted) return undefined;
        if (failing.has(w.shard) || !(await this.coordinator.finishCreation(w))) {
          failing.add(w.shard);
          stillCreating.set(w.id, { id: w.id, shard: w.shard });
        }
      }
      if (page.length < BATCH) return stillCreating;
      afterId = page[page.length - 1]?.id ?? afterId;
    }
  }

  private async sweepKeys(): Promise<void> {
    if (performance.now() - this.lastKeySweep < KEY_SWEEP_EVERY_MS) return;
    this.lastKeySweep = performance.now();
    const swept = await this.store.keys.sweep(IDEMPOTENCY_RETENTION_MS);
    if (swept > 0) this.logger.info({ swept }, 'expired idempotency keys swept');
    await this.store.leases.forgetInstances(IDEMPOTENCY_RETENTION_MS);
  }
}
