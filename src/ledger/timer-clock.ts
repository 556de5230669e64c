/**
 * Time as the ledger's timeouts see it: the current instant and one-shot timers. The real one
 * is the process clock; tests pass a manual one and move it on, so a deadline is a step of the
 * test, not a guess about how fast the machine is.
 */
export interface TimerClock {
  now(): number;
  setTimer(fn: () => void, ms: number): { cancel(): void };
}

export const realClock: TimerClock = {
  now: () => performance.now(),
  setTimer(fn, ms) {
    const timer = setTimeout(fn, ms);
    return { cancel: () => clearTimeout(timer) };
  },
};
