import { isDatabaseUnavailable } from '../kernel/db/unavailable.js';
import { MAX_AMOUNT_HUNDREDTHS } from '../kernel/money.js';
import type { Logger } from '../kernel/logger.js';
import { Wakeup } from '../kernel/lifecycle.js';
import type { AccrualMetrics } from './metrics.js';
import { computeAccrual, type Rule } from './rules.js';
import type { AccrualStore, DueOrder, OrderResult } from './store.js';

/** Orders one worker claims per step; bounds the work (and row locks) held at a time. */
export const BATCH = 100;
/** Longest idle wait: orders registered by another instance on the same database are seen this fast. */
const MAX_IDLE_MS = 250;
/** Wait after a database fault before trying again. */
const FAULT_BACKOFF_MS = 1000;

/** What one pass of the processor did; `nextDueInMs` is set when it found nothing to do. */
export interface ProcessorRound {
  started: number;
  finished: number;
  /** Until the next unfinished order is due (null: none waits); only after an idle pass. */
  nextDueInMs?: number | null;
}

export interface ProcessorOptions {
  /** Time from registration to a final status; the first half REGISTERED, the second PROCESSING. */
  delayMs: number;
  workers: number;
  logger: Logger;
  metrics: AccrualMetrics;
  /**
   * Milliseconds since the epoch to decide what is due by. Without it the database's clock is
   * used (shared by every instance); tests pass one they control.
   */
  clock?: () => number;
  /** Told about every pass, so tests wait for the processor instead of sleeping. Must not throw. */
  onRound?: (round: ProcessorRound) => void;
}

/** Splits the processing delay into the REGISTERED and PROCESSING phases. */
export function phases(delayMs: number): { registeredMs: number; processingMs: number } {
  const registeredMs = Math.floor(delayMs / 2);
  return { registeredMs, processingMs: delayMs - registeredMs };
}

/**
 * Decides each order's final status: INVALID for an order the INVALID_SHARE knob picked, for
 * unreadable stored goods or for a total too large to hold; else PROCESSED with the accrual
 * (null when 0). An empty goods list has no matching good, so it is PROCESSED without accrual
 * (SPEC §2).
 */
export function decideOrders(orders: readonly DueOrder[], rules: readonly Rule[]): OrderResult[] {
  return orders.map((order) => {
    if (order.goods === null || order.forcedInvalid) return { number: order.number, status: 'INVALID', accrual: null };
    const { hundredths } = computeAccrual(order.goods, rules);
    if (hundredths > BigInt(MAX_AMOUNT_HUNDREDTHS)) return { number: order.number, status: 'INVALID', accrual: null };
    return { number: order.number, status: 'PROCESSED', accrual: hundredths === 0n ? null : Number(hundredths) };
  });
}

/**
 * The background processor. All state is in the database (status + due time), so unfinished
 * orders resume after a restart; claims use FOR UPDATE SKIP LOCKED, so several instances on one
 * database never finish the same order twice. Each worker handles at most BATCH orders at once.
 */
export class Processor {
  private readonly abort = new AbortController();
  private readonly wakeup = new Wakeup();
  private loops: Promise<void>[] = [];

  constructor(
    private readonly store: AccrualStore,
    private readonly options: ProcessorOptions,
  ) {}

  start(): void {
    for (let i = 0; i < this.options.workers; i++) this.loops.push(this.loop());
  }

  /** A new order was registered here: do not wait for the idle timer. */
  wake(): void {
    this.wakeup.wake();
  }

  /** Stops claiming; a batch in progress commits or rolls back, then the loops end. */
  async stop(): Promise<void> {
    this.abort.abort();
    await Promise.all(this.loops);
  }

  /** One pass: start due REGISTERED orders, finish due PROCESSING ones. Returns orders touched. */
  async step(): Promise<number> {
    const { started, finished } = await this.pass();
    return started + finished;
  }

  private async pass(): Promise<ProcessorRound> {
    const { processingMs } = phases(this.options.delayMs);
    const started = await this.store.startDue(BATCH, processingMs, this.at());
    const results = await this.store.finishDue(
      BATCH,
      (orders, rules) => {
        for (const o of orders) if (o.goods === null) this.options.logger.error({ order: o.number }, 'stored goods unreadable; order ends INVALID');
        return decideOrders(orders, rules);
      },
      this.at(),
    );
    for (const r of results) this.options.metrics.finished.inc({ status: r.status });
    if (results.length > 0) this.options.logger.debug({ finished: results.length, started }, 'orders finished');
    return { started, finished: results.length };
  }

  /** The injected clock's time, or undefined for the database's own. */
  private at(): Date | undefined {
    return this.options.clock ? new Date(this.options.clock()) : undefined;
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    while (!signal.aborted) {
      let waitMs: number;
      try {
        const round = await this.pass();
        if (round.started + round.finished > 0) {
          this.options.onRound?.(round);
          continue;
        }
        const next = await this.store.msUntilNextDue(this.at());
        this.options.onRound?.({ ...round, nextDueInMs: next });
        waitMs = next === null ? MAX_IDLE_MS : Math.min(MAX_IDLE_MS, next);
        if (waitMs === 0) continue;
      } catch (err) {
        if (signal.aborted) break;
        // an outage is logged once by the database layer, not on every retry
        if (!isDatabaseUnavailable(err)) this.options.logger.error({ err }, 'accrual processor step failed; retrying');
        waitMs = FAULT_BACKOFF_MS;
      }
      await this.wakeup.wait(waitMs, signal);
    }
  }
}
