// Client-side request budget for one Cloudflare token.
//
// Cloudflare allows 1,200 requests per 5 minutes per token, and once over it answers 429 to
// *every* call for the next 5 minutes. Waiting on our side before the limit is hit is far
// cheaper than tripping that penalty, so each request takes a slot here first.
import { systemClock, type Clock } from '../core/clock.js';

export interface RateBudgetOptions {
  requests: number;
  windowMs: number;
  sleep: (ms: number) => Promise<void>;
  clock?: Clock;
}

/** Sliding window of start times; `take()` resolves once a request may be sent. */
export class RateBudget {
  private readonly starts: number[] = [];
  /** Slots are handed out one at a time so concurrent callers queue in arrival order. */
  private queue: Promise<void> = Promise.resolve();
  private readonly clock: Clock;

  constructor(private readonly options: RateBudgetOptions) {
    if (!(options.requests >= 1) || !(options.windowMs > 0)) {
      throw new RangeError('rate budget needs requests >= 1 and windowMs > 0');
    }
    this.clock = options.clock ?? systemClock;
  }

  take(): Promise<void> {
    const slot = this.queue.then(() => this.acquire());
    // A failed sleep must not wedge every later caller.
    this.queue = slot.catch(() => undefined);
    return slot;
  }

  private async acquire(): Promise<void> {
    const { requests, windowMs, sleep } = this.options;
    const now = this.clock.now().getTime();
    while (this.starts.length > 0 && (this.starts[0] ?? 0) <= now - windowMs) this.starts.shift();
    if (this.starts.length >= requests) {
      const oldest = this.starts[0] ?? now;
      await sleep(Math.max(0, oldest + windowMs - now));
      // The oldest slot has left the window by now. Trusting the sleep (rather than re-reading
      // the clock) keeps this correct with an injected sleep that does not move real time.
      this.starts.shift();
    }
    this.starts.push(Math.max(now, this.clock.now().getTime()));
  }
}
