import { sleep } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import type { Coordinator, WalletToCreate } from './coordinator.js';
import type { LedgerStore } from './store.js';

const BATCH = 500;

/**
 * The recovery loop: at start-up and then every `intervalMs`, finishes wallet creations the
 * shards have not acknowledged and hands every unfinished transaction that is not running in
 * this process to the coordinator, which resumes it from its recorded state (decision →
 * phase 2; none → run it if it never left PENDING, else cancel).
 */
export class Recovery {
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(
    private readonly store: LedgerStore,
    private readonly coordinator: Coordinator,
    private readonly logger: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    this.loop = (async () => {
      while (!this.stopSignal.signal.aborted) {
        try {
          await this.sweep();
        } catch (err) {
          this.logger.error({ err }, 'recovery sweep failed');
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
    const stillCreating = new Map<string, WalletToCreate>();
    for (const w of await this.store.walletsBeingCreated(BATCH)) {
      if (this.stopSignal.signal.aborted) return 0;
      if (!(await this.coordinator.finishCreation(w))) stillCreating.set(w.id, { id: w.id, shard: w.shard });
    }
    let submitted = 0;
    let afterSeq = 0;
    for (;;) {
      const rows = await this.store.unfinished(BATCH, afterSeq);
      for (const row of rows) {
        if (this.stopSignal.signal.aborted) return submitted;
        afterSeq = row.seq;
        if (this.coordinator.has(row.tx_id)) continue;
        const create = [row.from_wallet, row.to_wallet].flatMap((id) =>
          id !== null && stillCreating.has(id) ? [stillCreating.get(id) as WalletToCreate] : [],
        );
        if (this.coordinator.submit(row, create)) submitted++;
      }
      if (rows.length < BATCH) break;
    }
    if (submitted > 0) this.logger.info({ submitted }, 'recovery resumed unfinished transactions');
    return submitted;
  }
}
