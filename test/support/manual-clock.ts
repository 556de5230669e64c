import type { TimerClock } from '../../src/ledger/timer-clock.js';

/** A clock that moves only when the test says so: timers fire, in order, as `advance` passes them. */
export class ManualClock implements TimerClock {
  private at = 0;
  private timers: Array<{ due: number; fn: () => void; cancelled: boolean }> = [];

  now(): number {
    return this.at;
  }

  setTimer(fn: () => void, ms: number): { cancel(): void } {
    const timer = { due: this.at + Math.max(0, ms), fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Moves to `now() + ms`, firing every timer due on the way at its own instant. */
  advance(ms: number): void {
    const target = this.at + ms;
    for (;;) {
      const due = this.timers.filter((t) => !t.cancelled && t.due <= target).sort((a, b) => a.due - b.due)[0];
      if (!due) break;
      this.at = due.due;
      due.cancelled = true;
      due.fn();
    }
    this.timers = this.timers.filter((t) => !t.cancelled);
    this.at = target;
  }

  /** Moves to the absolute instant `t` (ms since the clock was made). */
  advanceTo(t: number): void {
    this.advance(Math.max(0, t - this.at));
  }
}
