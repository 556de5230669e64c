/**
 * Whether this instance may take over other instances' transactions now. Their leases run out
 * when they stop renewing — but also when nobody could renew, during a database outage (or a
 * stalled server). Right after one, a live instance's lease looks as dead as a killed one's
 * until its next heartbeat, and taking its transactions over would abort work it is still
 * driving (SPEC §3 forbids that). So an instance whose own lease lapsed (a renewal that did not
 * complete before the previous one's term ran out) waits one whole lease of renewals on time
 * before it takes anything over: every live instance renews within that lease.
 *
 * Times are this process's monotonic milliseconds; the lease's term is counted from when the
 * renewal was sent, which can only be earlier than when the database wrote it.
 */
export class LeaseContinuity {
  private heldUntil = Number.NEGATIVE_INFINITY;
  /** Since when renewals have kept the lease unbroken. */
  private unbrokenSince = Number.POSITIVE_INFINITY;

  constructor(private readonly leaseMs: number) {}

  /** A renewal sent at `sentAt` succeeded at `doneAt`. */
  renewed(sentAt: number, doneAt: number): void {
    // A start counts as a break too: this process cannot know what came before it (it may
    // have been started during an outage, or just after one, before the others' heartbeats).
    // It costs a restarted lone instance at most one lease: its dead predecessor's lease had
    // to run out first anyway.
    if (doneAt > this.heldUntil) this.unbrokenSince = doneAt;
    this.heldUntil = sentAt + this.leaseMs;
  }

  mayTakeOver(now: number): boolean {
    return now >= this.heldUntil ? false : now - this.unbrokenSince >= this.leaseMs;
  }
}
