import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Registry } from 'prom-client';
import { isDatabaseUnavailable, retryWhileUnavailable } from '../kernel/db/unavailable.js';
import { Wakeup, sleep } from '../kernel/lifecycle.js';
import type { Logger } from '../kernel/logger.js';
import type { AccrualAnswer } from './accrual-client.js';
import { createPollerMetrics, type PollerMetrics } from './metrics.js';
import { RATE_HEADROOM, RateGate } from './rate-gate.js';
import { budgetPerSecond, OutageBackoff, reaskDelay, UnfinishedCount } from './schedule.js';
import type { ClaimedOrder, GophermartStore } from './store.js';
import type { GophermartConfig } from './config.js';

/**
 * The poller's settings, as the settings catalogue names and types them (src/gophermart/config.ts):
 * passed through as they are, never renamed on the way.
 */
export type PollerOptions = Pick<
  GophermartConfig,
  'pollConcurrency' | 'pollIntervalMs' | 'pollBackoffBaseMs' | 'pollBackoffMaxMs' | 'pollAssumedLimit' | 'accrualTimeoutMs' | 'accrualRetries' | 'pollLeaseMs'
> & {
  /** How often the summary log line is written (when there was activity). */
  summaryEveryMs?: number;
  /** How often this poller tells the database it is alive (the live ones split the rate limit). */
  peerHeartbeatMs?: number;
};

/**
 * How long a limit the accrual service announced is taken up by pollers that did not see it
 * themselves (other instances, this one restarted). Not for ever: a service whose limit was
 * raised since would never say so to pollers that keep under the old one.
 */
export const ANNOUNCED_LIMIT_MEMORY_MS = 60 * 60_000;

/** A poller not heard from for three heartbeats is no longer counted. */
const PEER_LIVE_HEARTBEATS = 3;

/** The one thing the poller needs from an accrual client (the tests' fakes sit behind HTTP, not here). */
export interface AccrualAsker {
  ask(number: string, signal?: AbortSignal): Promise<AccrualAnswer>;
}

/** What became of one claimed order; `nextAskInMs` is set when it was rescheduled. */
export interface SettledOrder {
  number: string;
  /** `over_balance_cap`: a PROCESSED answer whose credit would pass the largest balance, rescheduled. */
  outcome: Outcome | 'handed_back' | 'over_balance_cap';
  nextAskInMs?: number;
}

/**
 * Hooks the poller calls as it works, so tests and tools can wait for what happened instead of
 * sleeping and guessing. They must not throw.
 */
export interface PollerObserver {
  /**
   * The loop looked once: `claimed` orders were taken (0 when nothing was due), or, with
   * `pausedForMs`, it claimed nothing because a 429 pause is in force.
   */
  round?(round: { claimed: number; pausedForMs: number }): void;
  /** A claimed order's answer was applied, or its claim handed back. */
  settled?(order: SettledOrder): void;
}

export interface PollerDeps {
  store: GophermartStore;
  client: AccrualAsker;
  logger: Logger;
  metrics: Registry;
  gate?: RateGate;
  /** Milliseconds since the epoch; the lease arithmetic and the default rate gate read it. */
  clock?: () => number;
  observer?: PollerObserver;
  /**
   * The database pool's session name (Database.session) on PostgreSQL: claims carry it, and
   * another process takes them over once no connection of that name is left. Absent on the
   * embedded database, where claims carry the poller's own id.
   */
  session?: string;
  /**
   * Called once this poller has written a 429's pause to the database, so that the other
   * processes on it are told at once (a NOTIFY, main.ts) and call pauseAnnounced.
   */
  announcedPause?: () => void;
}

/** Claimers of the pollers running in this process: their claims are never taken for a dead process's. */
const runningClaimers = new Map<string, number>();

/** Pause between the quick retries after a 5xx / timeout / connection error: 100 ms, 200 ms, 400 ms … */
export function quickRetryDelay(retry: number): number {
  return Math.min(2000, 100 * 2 ** retry);
}

/**
 * Pause before trying again a write that carries an accrual answer while the database is away:
 * 250 ms, 500 ms, then every second, so the answer lands within about a second of its return.
 */
export function heldWriteDelay(attempt: number): number {
  return Math.min(1000, 250 * 2 ** attempt);
}

/** A lease shorter than one request plus this margin could expire while we still hold the answer. */
const LEASE_MARGIN_MS = 1000;

export type Outcome = AccrualAnswer['kind'] | 'timeout' | 'connection_error' | 'malformed' | 'server_error';

function outcomeLabel(answer: AccrualAnswer): Outcome {
  if (answer.kind !== 'transient') return answer.kind;
  if (answer.reason.startsWith('malformed')) return 'malformed';
  if (answer.reason === 'timeout') return 'timeout';
  if (answer.reason.startsWith('HTTP')) return 'server_error';
  return 'connection_error';
}

/**
 * The accrual worker (SPEC §1.1). All its state lives in the orders table: a loop claims due
 * orders with a lease, asks the accrual service about each with bounded concurrency and no
 * transaction open, then applies the answer or reschedules the order with backoff. The rate
 * gate is in memory, for speed; a 429's pause and the limit in force are also written to the
 * database, which every instance (and this one after a restart) adopts at its heartbeat.
 */
export class AccrualPoller {
  private readonly gate: RateGate;
  private readonly abort = new AbortController();
  private readonly active = new Set<Promise<void>>();
  private loop: Promise<void> | undefined;
  private statsTimer: NodeJS.Timeout | undefined;
  /** Counts since the last summary log line. */
  private stats = { requests: {} as Partial<Record<Outcome, number>>, credits: 0, points: 0 };
  private readonly wakeup = new Wakeup();
  private readonly m: PollerMetrics;
  private readonly now: () => number;
  private readonly outage: OutageBackoff;
  /**
   * Until a 429 teaches the real limit, re-asks are also paced at the assumed limit, one at a
   * time: the schedule plans them below it, and the pacer keeps a loop that stalled (a loaded
   * machine) from sending a bunch at once, each of which could meet a full window.
   */
  private readonly reaskPacer: RateGate | undefined;
  private readonly unfinished: UnfinishedCount;
  /** When the last probe was claimed while the accrual service is down. */
  private probedAt = Number.NEGATIVE_INFINITY;
  private readonly instanceId = randomUUID();
  /** What this poller's claims carry: see PollerDeps.session. */
  private readonly claimer: string;
  /** The last heartbeat met an outage: the next one does not yet take claims over (see heartbeat). */
  private beatFailed = false;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  /** The announced limit the last heartbeat found on the database (adoptAnnouncedPause). */
  private adoptedLimit: number | undefined;
  /** The heartbeat in flight: a stop waits for it, or it would mark a stopped poller alive again. */
  private beating: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: PollerOptions,
    private readonly deps: PollerDeps,
  ) {
    if (options.pollConcurrency > 0 && options.pollLeaseMs < options.accrualTimeoutMs + LEASE_MARGIN_MS) {
      throw new Error(`POLL_LEASE (${options.pollLeaseMs} ms) must exceed ACCRUAL_TIMEOUT (${options.accrualTimeoutMs} ms) by at least ${LEASE_MARGIN_MS} ms`);
    }
    this.now = deps.clock ?? Date.now;
    this.claimer = deps.session ?? this.instanceId;
    this.gate = deps.gate ?? new RateGate(this.now);
    const limits = { floorMs: options.pollBackoffBaseMs, capMs: options.pollBackoffMaxMs };
    this.outage = new OutageBackoff(limits);
    if (options.pollAssumedLimit > 0) {
      this.reaskPacer = new RateGate(this.now);
      this.reaskPacer.setLimitPerMinute(options.pollAssumedLimit, 1);
    }
    this.unfinished = new UnfinishedCount(() => deps.store.countUnfinished(), this.now);
    // every in-flight request and every sleeping task listens on the one stop signal: as many
    // listeners as the concurrency allows, which is no leak
    setMaxListeners(options.pollConcurrency * 2 + 8, this.abort.signal);
    this.m = createPollerMetrics(
      deps.metrics,
      deps.store,
      () => this.gate,
      () => this.active.size,
      () => this.outage.down,
    );
  }

  start(): void {
    if (this.options.pollConcurrency === 0 || this.loop) return;
    runningClaimers.set(this.claimer, (runningClaimers.get(this.claimer) ?? 0) + 1);
    this.statsTimer = setInterval(() => void this.logSummary(), this.options.summaryEveryMs ?? 60_000);
    this.statsTimer.unref();
    const beat = (): void => {
      this.beating = this.beating.then(() => this.heartbeat());
    };
    beat();
    // the first requests go out under the limit and share the database announced (a restart, the
    // other instances' 429s), not at full concurrency before the first heartbeat has read them
    this.loop = this.beating.then(() => this.run());
    this.heartbeatTimer = setInterval(beat, this.heartbeatMs);
    this.heartbeatTimer.unref();
  }

  private get heartbeatMs(): number {
    return this.options.peerHeartbeatMs ?? 5000;
  }

  /**
   * The rate gate is one per process, and every instance on the database keeps under the same
   * limit: together they would send several times it. Each live poller takes an equal share (the
   * schedule of re-asks already plans for all of them together). The limit itself, and any pause,
   * come from the database (adoptAnnouncedPause).
   */
  private async heartbeat(): Promise<void> {
    try {
      if (this.abort.signal.aborted) return;
      const live = await this.deps.store.pollerAlive(this.instanceId, this.heartbeatMs * PEER_LIVE_HEARTBEATS);
      const share = 1 / Math.max(1, live);
      this.gate.setShare(share);
      this.reaskPacer?.setShare(share);
      await this.adoptAnnouncedPause();
      // Right after an outage another process may not have reconnected yet and would look gone:
      // claims are taken over only from the second heartbeat on the database's return.
      if (!this.beatFailed) await this.takeOverClaimsOfGone();
      this.beatFailed = false;
    } catch {
      // the database is away: the last share stands (an outage is logged by the database layer)
      this.beatFailed = true;
    }
  }

  /**
   * Takes in the pause and limit another instance's 429 announced (or this process's own, before
   * a restart). Claims already stop for the pause in the database; this also holds the orders
   * this process claimed before it and makes its own pause reports say so.
   */
  private async adoptAnnouncedPause(): Promise<void> {
    const { pausedForMs, limitPerMinute } = await this.deps.store.accrualPause(ANNOUNCED_LIMIT_MEMORY_MS);
    if (pausedForMs > 0) this.gate.pause(pausedForMs);
    // taken once per announcement: a lower limit this process adapted to since stands
    if (limitPerMinute !== undefined && limitPerMinute !== this.adoptedLimit) this.gate.setLimitPerMinute(limitPerMinute);
    this.adoptedLimit = limitPerMinute;
  }

  /**
   * Another poller on the database wrote a 429's pause: adopt it now, not at the next heartbeat.
   * The claims already stop for it, but orders this process claimed before it (waiting for their
   * turn under the rate, or between quick retries) would be asked inside the pause until then.
   */
  async pauseAnnounced(): Promise<void> {
    if (this.abort.signal.aborted) return;
    try {
      await this.adoptAnnouncedPause();
    } catch {
      // the database is away: the heartbeat adopts the pause once it is back
    }
  }

  /** Orders claimed by a process that is gone (killed, crashed) are due again now, not when their lease ends. */
  private async takeOverClaimsOfGone(): Promise<void> {
    const released = await this.deps.store.releaseClaimsOfGone([...runningClaimers.keys()], this.deps.session !== undefined);
    if (released === 0) return;
    this.deps.logger.info({ orders: released }, 'accrual poller: orders claimed by a process that is gone are asked about again');
    this.wake();
  }

  /** An order was uploaded (or a slot freed): look for due orders now instead of at the next tick. */
  wake(): void {
    this.wakeup.wake();
  }

  /** Stops claiming, abandons in-flight requests (their claims are handed back), waits for them. */
  async stop(): Promise<void> {
    this.abort.abort();
    clearInterval(this.statsTimer);
    clearInterval(this.heartbeatTimer);
    await this.loop;
    await Promise.allSettled([...this.active]);
    if (this.loop) {
      const left = (runningClaimers.get(this.claimer) ?? 1) - 1;
      if (left > 0) runningClaimers.set(this.claimer, left);
      else runningClaimers.delete(this.claimer);
    }
    // the others take this poller's share at their next heartbeat instead of after it lapses
    // (bounded: a database that stopped answering must not hold the shutdown up)
    if (this.loop) {
      const left = new AbortController();
      const gone = this.beating
        .then(() => this.deps.store.pollerGone(this.instanceId))
        .then(
          () => left.abort(),
          () => left.abort(),
        );
      await Promise.race([gone, sleep(500, left.signal)]);
    }
  }

  /** One info line per interval with activity: requests by outcome, credits, queue depth. */
  private async logSummary(): Promise<void> {
    const { requests, credits, points } = this.stats;
    const total = Object.values(requests).reduce((a, b) => a + b, 0);
    if (total === 0) return;
    this.stats = { requests: {}, credits: 0, points: 0 };
    const counts = await this.deps.store.orderCounts().catch(() => undefined);
    const queue = counts?.filter((c) => c.status === 'NEW' || c.status === 'PROCESSING').reduce((sum, c) => sum + c.total, 0);
    const due = counts?.reduce((sum, c) => sum + c.due, 0);
    this.deps.logger.info(
      {
        requests,
        requestsPerSecond: Math.round((total / (this.options.summaryEveryMs ?? 60_000)) * 100_000) / 100,
        credits,
        creditedPoints: points / 100,
        queue,
        due,
        pausedMs: this.gate.pausedForMs(),
      },
      'accrual poller summary',
    );
  }

  private async run(): Promise<void> {
    const { pollConcurrency: concurrency, pollIntervalMs: intervalMs, pollLeaseMs: leaseMs } = this.options;
    while (!this.abort.signal.aborted) {
      try {
        const paused = this.gate.pausedForMs();
        if (paused > 0) {
          this.deps.observer?.round?.({ claimed: 0, pausedForMs: paused });
          // Nothing is claimed during a pause, so no lease runs out while we wait.
          await sleep(Math.min(paused, 1000), this.abort.signal);
          continue;
        }
        if (this.outage.down) {
          await this.probe(leaseMs);
          continue;
        }
        const free = concurrency - this.active.size;
        if (free <= 0) {
          await this.wakeup.wait(intervalMs, this.abort.signal);
          continue;
        }
        const claimedAt = this.now();
        const claimed = await this.deps.store.claimDueOrders(free, leaseMs, this.claimer);
        for (const order of claimed) this.spawn(order, claimedAt + leaseMs);
        this.deps.observer?.round?.({ claimed: claimed.length, pausedForMs: 0 });
        if (claimed.length < free) await this.wakeup.wait(intervalMs, this.abort.signal);
      } catch (err) {
        if (this.abort.signal.aborted) break;
        // an outage is logged once by the database layer, not on every retry
        if (!isDatabaseUnavailable(err)) this.deps.logger.error({ err }, 'accrual poller: claiming orders failed');
        await sleep(Math.max(intervalMs, 1000), this.abort.signal);
      }
    }
  }

  /**
   * While the accrual service is down, every due order would cost a claim, a request that fails
   * with its quick retries, and a reschedule: a busy service would spend more on a dead peer than
   * on its members. Instead one order at a time asks, at most one per POLL_BACKOFF_BASE; its
   * answer, when one comes, lets all the others go again.
   */
  private async probe(leaseMs: number): Promise<void> {
    if (this.active.size > 0) {
      // the probe, or the orders that were in flight when the service went down
      await Promise.race(this.active);
      return;
    }
    const wait = this.probedAt + this.options.pollBackoffBaseMs - this.now();
    if (wait > 0) {
      await sleep(wait, this.abort.signal);
      return;
    }
    this.probedAt = this.now();
    // the order that comes due first, due or not: while all wait out their backoff, the
    // service's return would otherwise go unnoticed until the first came due
    const order = await this.deps.store.claimProbeOrder(leaseMs, this.claimer);
    if (order) this.spawn(order, this.probedAt + leaseMs);
    this.deps.observer?.round?.({ claimed: order ? 1 : 0, pausedForMs: 0 });
    // nothing unfinished: look again as an idle poller would (an upload wakes it), never in a tight loop
    if (!order) await this.wakeup.wait(Math.max(this.options.pollIntervalMs, this.options.pollBackoffBaseMs), this.abort.signal);
  }

  /**
   * The service answers again: the orders its outage put off are asked on the schedule's own
   * terms at once, not at the end of their backoff.
   */
  private async afterOutage(): Promise<void> {
    try {
      if ((await this.deps.store.pullForward(await this.reaskIn())) > 0) this.wake();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) this.deps.logger.error({ err }, 'accrual poller: bringing forward the orders the outage put off failed');
    }
  }

  /**
   * Applies `change` to the outage count and says so when the service is taken for down, or
   * back; back, the orders the outage put off are brought forward (afterOutage).
   */
  private async noteOutage(change: (outage: OutageBackoff) => void, reason?: string): Promise<void> {
    const wasDown = this.outage.down;
    change(this.outage);
    if (this.outage.down === wasDown) return;
    if (!wasDown) {
      this.deps.logger.warn({ reason }, 'accrual service is down: asking about one order at a time until it answers');
      return;
    }
    this.deps.logger.info('accrual service answers again: asking about every due order');
    await this.afterOutage();
  }

  private spawn(order: ClaimedOrder, leaseEnd: number): void {
    const task = this.handle(order, leaseEnd)
      .catch((err: unknown) => {
        // The lease will expire and another round will pick the order up.
        if (!isDatabaseUnavailable(err)) this.deps.logger.error({ err, order: order.number }, 'accrual poller: handling an order failed');
      })
      .finally(() => {
        this.active.delete(task);
        // Refill in batches rather than one claim query per finished order.
        if (this.options.pollConcurrency - this.active.size >= Math.max(1, Math.ceil(this.options.pollConcurrency / 4))) this.wake();
      });
    this.active.add(task);
  }

  /**
   * Waits for the rate gate. Gives up (false) when a 429 pause starts, when the lease would run
   * out before an answer could come back, or on shutdown: the caller then hands the claim back.
   */
  private async takeTurn(leaseEnd: number, reask: boolean): Promise<boolean> {
    for (;;) {
      if (this.abort.signal.aborted) return false;
      if (this.gate.pausedForMs() > 0) return false;
      const paced = reask && this.reaskPacer !== undefined && !Number.isFinite(this.gate.limitPerSecond);
      const wait = (paced ? (this.reaskPacer?.tryTake() ?? 0) : 0) || this.gate.tryTake();
      if (wait === 0) {
        if (leaseEnd - this.now() < this.options.accrualTimeoutMs + LEASE_MARGIN_MS) return false;
        return true;
      }
      if (leaseEnd - this.now() < wait + this.options.accrualTimeoutMs + LEASE_MARGIN_MS) return false;
      await sleep(Math.min(wait, 250), this.abort.signal);
    }
  }

  private async handle(order: ClaimedOrder, leaseEnd: number): Promise<void> {
    const { client, logger } = this.deps;
    let answer: AccrualAnswer | undefined;
    for (let retry = 0; ; retry++) {
      if (!(await this.takeTurn(leaseEnd, order.lane === 1))) return this.handBack(order);
      const sentUnder = this.gate.limitVersion;
      const stopTimer = this.m.latency.startTimer();
      answer = await client.ask(order.number, this.abort.signal);
      stopTimer();
      if (this.abort.signal.aborted) return this.handBack(order);
      const outcome = outcomeLabel(answer);
      this.m.requests.inc({ outcome });
      this.stats.requests[outcome] = (this.stats.requests[outcome] ?? 0) + 1;
      if (answer.kind === 'rate_limited') return this.rateLimited(order, answer, sentUnder);
      if (answer.kind !== 'transient') break;
      if (answer.reason.startsWith('malformed')) {
        logger.warn({ order: order.number, reason: answer.reason }, 'accrual service sent an invalid answer; will ask again later');
        break; // a malformed body is unlikely to mend itself within milliseconds
      }
      if (retry >= this.options.accrualRetries) {
        logger.debug({ order: order.number, reason: answer.reason }, 'accrual service unavailable for this order; will ask again later');
        break;
      }
      await sleep(quickRetryDelay(retry), this.abort.signal);
    }
    await this.apply(order, answer);
  }

  /**
   * A 429: every request of the process pauses, the rate adapts (RateGate.limited), and the order
   * goes back untouched — not its fault: no attempt counted, due again as soon as the pause ends.
   */
  private async rateLimited(order: ClaimedOrder, answer: Extract<AccrualAnswer, { kind: 'rate_limited' }>, sentUnder: number): Promise<void> {
    // an answer: the service is there, if busy (the pause, not the outage count, holds it off)
    await this.noteOutage((outage) => outage.heard());
    const { pauseMs, limitPerMinute } = this.gate.limited(answer.retryAfterMs, answer.limitPerMinute, sentUnder, this.options.pollAssumedLimit);
    this.deps.logger.warn(
      { retryAfterMs: answer.retryAfterMs, announcedLimitPerMinute: answer.limitPerMinute, pauseMs, limitPerMinute },
      'accrual service rate limit: pausing all requests',
    );
    // before the order is claimable again, so no other instance claims it inside the pause
    await this.announcePause(pauseMs, answer.limitPerMinute);
    await this.persist(() => this.deps.store.releaseClaim(order.number, this.claimer));
    this.deps.observer?.settled?.({ number: order.number, outcome: 'rate_limited' });
  }

  /**
   * Runs a write that settles a claimed order until it goes through. Given up at the first
   * outage, the answer held would be lost and the order left claimed until its lease ran out
   * (POLL_LEASE, 30 s): credited that long after the database's return instead of within a
   * second. Stopping abandons it (the error is rethrown): the lease expires and the order is
   * asked again, which credits once, since applyAccrualResult changes only orders not final.
   */
  private persist<T>(write: () => Promise<T>): Promise<T> {
    return retryWhileUnavailable(write, heldWriteDelay, this.abort.signal);
  }

  /**
   * Writes a 429's pause, and the limit it announced, where every instance (and this one after a
   * restart) sees them. Best effort: with the database away this process's gate still holds it,
   * and the pause will likely be over before anyone could read it.
   */
  private async announcePause(pauseMs: number, announcedPerMinute: number | undefined): Promise<void> {
    try {
      await this.deps.store.announceAccrualPause(pauseMs, announcedPerMinute);
      this.deps.announcedPause?.();
    } catch (err) {
      if (!isDatabaseUnavailable(err)) this.deps.logger.error({ err }, 'accrual poller: announcing a rate-limit pause failed');
    }
  }

  /**
   * The credit would take the owner's balance past MAX_BALANCE_HUNDREDTHS, where balances stop
   * being exact (and past 2^53 hundredths unreadable). The order is not made final without its
   * credit: it is asked again after the longest backoff, by when a withdrawal may have made room.
   */
  private async overBalanceCap(order: ClaimedOrder, accrual: number): Promise<void> {
    const delay = this.options.pollBackoffMaxMs;
    this.deps.logger.error(
      { order: order.number, accrual: accrual / 100, nextAskInMs: delay },
      "accrual poller: the credit would take the owner's balance past the largest balance; the order is asked again later",
    );
    await this.persist(() => this.deps.store.rescheduleOrder(order.number, delay, true, this.claimer));
    this.deps.observer?.settled?.({ number: order.number, outcome: 'over_balance_cap', nextAskInMs: delay });
  }

  /** Gives the claim back untouched (shutdown, a 429 pause, a lease too short to ask in). */
  private async handBack(order: ClaimedOrder): Promise<void> {
    await this.persist(() => this.deps.store.releaseClaim(order.number, this.claimer));
    this.deps.observer?.settled?.({ number: order.number, outcome: 'handed_back' });
  }

  /** The schedule's delay for the next question, from the queue length and the request budget. */
  private async reaskIn(): Promise<number> {
    const budget = budgetPerSecond(this.gate.limitPerSecond, this.options.pollAssumedLimit, RATE_HEADROOM);
    return reaskDelay(await this.unfinished.get(), budget, { floorMs: this.options.pollBackoffBaseMs, capMs: this.options.pollBackoffMaxMs });
  }

  private async apply(order: ClaimedOrder, answer: Exclude<AccrualAnswer, { kind: 'rate_limited' }>): Promise<void> {
    const { store, logger } = this.deps;
    const outcome = outcomeLabel(answer);
    if (answer.kind === 'transient') await this.noteOutage((outage) => outage.failed(outcome === 'malformed'), answer.reason);
    else await this.noteOutage((outage) => outage.answered());
    switch (answer.kind) {
      case 'processed': {
        const applied = await this.persist(() => store.applyAccrualResult(order.number, 'PROCESSED', answer.accrual));
        if (applied === 'over_balance_cap') return this.overBalanceCap(order, answer.accrual);
        if (applied === 'applied') {
          this.m.credits.inc();
          this.m.credited.inc(answer.accrual / 100);
          this.stats.credits += 1;
          this.stats.points += answer.accrual;
          logger.debug({ order: order.number, accrual: answer.accrual / 100 }, 'order processed and credited');
        }
        break;
      }
      case 'invalid':
        await this.persist(() => store.applyAccrualResult(order.number, 'INVALID'));
        break;
      case 'in_progress':
      case 'unknown':
      case 'transient': {
        const delay = Math.max(await this.reaskIn(), answer.kind === 'transient' ? this.outage.delayMs() : 0);
        await this.persist(() => store.rescheduleOrder(order.number, delay, answer.kind === 'in_progress', this.claimer));
        this.deps.observer?.settled?.({ number: order.number, outcome, nextAskInMs: delay });
        return;
      }
    }
    this.deps.observer?.settled?.({ number: order.number, outcome });
  }
}
