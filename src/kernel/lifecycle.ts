import type { Logger } from './logger.js';

export interface Running {
  /** Stops accepting work, finishes or abandons in-flight work safely, releases resources. */
  stop(): Promise<void>;
}

/**
 * Makes `handler` the one listener for SIGINT and SIGTERM, replacing whatever was there (the
 * start-up handler, the bin shim's stop-while-loading). It is added before the others go:
 * Node stops watching a signal when its last listener goes, and a signal already received but
 * not yet dispatched is then lost — the process would go on running after a SIGTERM.
 */
export function onStopSignals(handler: (signal: NodeJS.Signals) => void): void {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const before = process.listeners(signal);
    process.on(signal, handler);
    for (const listener of before) process.off(signal, listener);
  }
}

/**
 * Keeps a started service running until SIGINT/SIGTERM, then stops it within `graceMs` and
 * exits 0. A second signal, or a stop that overruns, exits at once (still 0: the process was
 * asked to end).
 */
export function runUntilSignalled(logger: Logger, running: Running, graceMs = 10_000): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) {
      process.exit(0);
    }
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const timer = setTimeout(() => {
      logger.warn({ graceMs }, 'shutdown overran its grace period; exiting');
      // the line is buffered (logger.ts): written before the process goes
      logger.flush(() => process.exit(0));
    }, graceMs);
    timer.unref();
    running
      .stop()
      .then(() => logger.info('stopped'))
      .catch((err: unknown) => logger.error({ err }, 'error while stopping'))
      .finally(() => {
        logger.flush(() => process.exit(0));
      });
  };
  onStopSignals(onSignal);
}

/** Sleeps `ms`, waking early (resolving) when the signal aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/**
 * An idle wait that others can cut short (a background loop woken by new work). `wake()` ends
 * every wait in progress; with nobody waiting, the next wait returns at once, so work that
 * arrives while the loop is busy is not left until the timer.
 */
export class Wakeup {
  private readonly sleepers = new Set<() => void>();
  private pending = false;

  wake(): void {
    if (this.sleepers.size === 0) {
      this.pending = true;
      return;
    }
    for (const done of [...this.sleepers]) done();
  }

  /** Waits `ms`, less when woken or when `signal` aborts. */
  wait(ms: number, signal?: AbortSignal): Promise<void> {
    if (this.pending || signal?.aborted) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }
}
