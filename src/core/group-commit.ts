export interface GroupCommitOptions {
  /** Batches running at once; an item arriving while this many run waits for the next batch. */
  maxInFlight: number;
  /** Items in one batch at most. */
  maxBatch: number;
}

/**
 * Group commit for calls that each want an answer: items submitted while `maxInFlight`
 * batches run are queued, and when a batch returns the queue goes out as the next one, so
 * one statement (one transaction, one commit, one round trip) serves many callers. No
 * timer: while a slot is free an item goes out at once, alone, so a lone call waits for
 * nothing. (Compare BatchWriter: fire-and-forget writes, flushed on a timer.)
 *
 * A returned batch of several frees its slot on setImmediate, after the callers it answered
 * have run on and queued their next items: a steady stream of callers is then not split
 * into a lone item and the rest. A lone item's slot frees at once, so a caller making one
 * call after another never waits for a turn of the event loop (PGlite answers without one).
 *
 * `many` answers each item in order; when it throws, every item of that batch rejects with
 * the error (the caller decides what each one does next).
 */
export class GroupCommit<I, O> {
  private queue: Array<{ item: I; resolve(answer: O): void; reject(err: unknown): void }> = [];
  private inFlight = 0;
  /** Batches sent (a lone item counts as one) and the items they carried. */
  readonly stats = { batches: 0, items: 0 };

  constructor(
    private readonly options: GroupCommitOptions & {
      /** A batch of one item. */
      one(item: I): Promise<O>;
      /** A batch of several: one answer per item, in the items' order. */
      many(items: I[]): Promise<O[]>;
    },
  ) {}

  submit(item: I): Promise<O> {
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      this.send();
    });
  }

  private send(): void {
    while (this.inFlight < this.options.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.options.maxBatch);
      this.inFlight++;
      this.stats.batches++;
      this.stats.items += batch.length;
      const items = batch.map((b) => b.item);
      const answered = (async () => (items.length === 1 ? [await this.options.one(items[0]!)] : this.options.many(items)))();
      void answered
        .then(
          (answers) => batch.forEach((b, i) => b.resolve(answers[i]!)),
          (err: unknown) => batch.forEach((b) => b.reject(err)),
        )
        .then(() => {
          const free = () => {
            this.inFlight--;
            this.send();
          };
          if (batch.length === 1) free();
          else setImmediate(free);
        });
    }
  }
}
