import { sleep } from '../../kernel/lifecycle.js';
import type { Logger } from '../../kernel/logger.js';
import { LeaseContinuity } from './lease-continuity.js';
import type { OrchestratorStore } from './store.js';

/**
 * The heartbeat of this instance's lease: every third of the lease it moves its row in
 * ledger.instances on, which extends its hold on every unfinished transaction it owns, so a
 * live instance never looks dead to the others' recovery (which only takes over transactions
 * whose owner's lease ran out). On a clean stop the lease is given up at once, so the other
 * instances finish its transactions without waiting for expiry.
 */
export class LeaseKeeper {
  private readonly stopSignal = new AbortController();
  private loop: Promise<void> | null = null;
  private readonly continuity: LeaseContinuity;

  constructor(
    private readonly store: OrchestratorStore,
    private readonly logger: Logger,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.continuity = new LeaseContinuity(store.lease.ms);
  }

  get intervalMs(): number {
    return Math.max(10, Math.floor(this.store.lease.ms / 3));
  }

  /** Takes the lease before the instance accepts anything (so nothing it logs looks orphaned). */
  async begin(): Promise<void> {
    await this.renew();
  }

  /** False while another live instance's lease may look run out only because of an outage (see LeaseContinuity). */
  mayTakeOver(): boolean {
    return this.continuity.mayTakeOver(this.now());
  }

  private async renew(): Promise<void> {
    const sentAt = this.now();
    await this.store.leases.renew();
    this.continuity.renewed(sentAt, this.now());
  }

  start(): void {
    this.loop = (async () => {
      while (!this.stopSignal.signal.aborted) {
        await sleep(this.intervalMs, this.stopSignal.signal);
        if (this.stopSignal.signal.aborted) break;
        try {
          await this.renew();
        } catch (err) {
          // the database is away: nobody can take the leases over meanwhile either, except
          // after they run out — which the protocol tolerates (every step is idempotent)
          this.logger.warn({ err }, 'lease renewal failed');
        }
      }
    })();
  }

  /** Call once this instance drives nothing any more (after the coordinator stopped). */
  async stop(): Promise<void> {
    this.stopSignal.abort();
    await this.loop;
    try {
      const released = await this.store.leases.release();
      if (released > 0) this.logger.info({ released }, 'lease released: the other instances finish these transactions');
    } catch (err) {
      this.logger.warn({ err }, 'leases not released; they run out on their own');
    }
  }
}
