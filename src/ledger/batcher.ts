/**
 * Groups concurrent calls of one statement into one round trip (and one WAL flush): calls
 * made while a flush is in flight wait for the next flush. At low load every call flushes at
 * once, so batching adds no latency; under load it turns N commits into one. One flush in
 * flight by default: two made each batch half as big for the same load, and the ledger bench
 * measured 3–16 % fewer transfers per second with two (docs/ledger.md, Performance).
 */
export class Batcher<I, O> {
  private pending: Array<{ item: I; resolve: (o: O) => void; reject: (e: unknown) => void }> = [];
  private inFlight = 0;

  constructor(
    private readonly flush: (items: I[]) => Promise<O[]>,
    private readonly maxBatch = 500,
    private readonly maxInFlight = 1,
  ) {}

  run(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      this.pending.push({ item, resolve, reject });
      this.next();
    });
  }

  private next(): void {
    if (this.inFlight >= this.maxInFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.maxBatch);
    this.inFlight++;
    this.flush(batch.map((b) => b.item))
      .then(
        (out) => {
          batch.forEach((b, i) => {
            b.resolve(out[i] as O);
          });
        },
        (err: unknown) => {
          for (const b of batch) b.reject(err);
        },
      )
      .finally(() => {
        this.inFlight--;
        this.next();
      });
  }
}

type Settled<O> = { ok: true; value: O } | { ok: false; error: unknown };

/**
 * A Batcher whose batch does not fail for one bad item: when the batch's flush fails, each of
 * its items is flushed again alone, so only an item that fails by itself reports a fault (its
 * own) and the others get their answers. A lone item's failure stands as it is.
 */
export class IsolatingBatcher<I, O> {
  private readonly batch: Batcher<I, Settled<O>>;

  constructor(private readonly flush: (items: I[]) => Promise<O[]>) {
    this.batch = new Batcher((items) => this.flushIsolated(items));
  }

  async run(item: I): Promise<O> {
    const settled = await this.batch.run(item);
    if (!settled.ok) throw settled.error;
    return settled.value;
  }

  private async flushIsolated(items: I[]): Promise<Array<Settled<O>>> {
    try {
      return (await this.flush(items)).map((value) => ({ ok: true, value }));
    } catch (error) {
      if (items.length === 1) return [{ ok: false, error }];
      return Promise.all(
        items.map((item) =>
          this.flush([item]).then(
            (out): Settled<O> => ({ ok: true, value: out[0] as O }),
            (e: unknown): Settled<O> => ({ ok: false, error: e }),
          ),
        ),
      );
    }
  }
}
