/**
 * Collects items and writes them in batches, off the caller's path: after
 * `flushMs` or once `flushAt` items wait, whichever comes first. Batches are
 * written one after another, in order; `flush()` resolves when everything pushed
 * before it is written.
 */
export class BatchWriter<T> {
  private buffer: T[] = [];
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      flushMs: number;
      flushAt: number;
      /** Writes one batch; must not throw (report and drop instead). */
      write(batch: T[]): Promise<void>;
      /** Called once a batch's write has finished, committed or not. */
      settled?(batch: T[]): void;
    },
  ) {}

  push(item: T): void {
    this.buffer.push(item);
    if (this.buffer.length >= this.options.flushAt) void this.flush();
    else this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs).unref();
  }

  flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const batch = this.buffer;
    this.buffer = [];
    if (batch.length > 0) {
      this.writing = this.writing.then(() => this.options.write(batch)).finally(() => this.options.settled?.(batch));
    }
    return this.writing;
  }
}
