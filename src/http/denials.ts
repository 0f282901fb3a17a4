import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';

interface Tally {
  ip: string;
  reason: string;
  target: string;
  count: number;
  from: Date;
  to: Date;
}

interface Bucket {
  tokens: number;
  at: number;
}

export interface DenialOptions {
  /** How long refusals are counted before one audit row sums them up. */
  flushMs: number;
  /** Refused requests a client may send at once, then per second. */
  burst: number;
  perSecond: number;
}

export const DEFAULT_DENIALS: DenialOptions = { flushMs: 5_000, burst: 100, perSecond: 10 };

/** Clients tracked at most; the least recently seen go first (bounded memory under a spoofing flood). */
const MAX_CLIENTS = 10_000;

/**
 * Requests without a valid token cost the caller nothing, so they must cost the
 * daemon little: refusals are counted per client, reason and target and written as
 * one audit row per interval (with the count), and a client past its budget gets
 * 429 before any further work. Authenticated refusals stay one row each.
 */
export class DenialLog {
  private tallies = new Map<string, Tally>();
  private readonly buckets = new Map<string, Bucket>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly audit: AuditLog,
    private readonly clock: Clock,
    private readonly options: DenialOptions = DEFAULT_DENIALS,
  ) {
    audit.addBufferedSource(this);
  }

  /** Counts one refusal; answers how many seconds the client must wait when it is over its budget, else 0. */
  note(ip: string, reason: string, target: string): number {
    const now = this.clock.now();
    const wait = this.take(ip, now.getTime());
    const key = `${ip}\n${wait > 0 ? 'rate limited' : reason}\n${wait > 0 ? '*' : target}`;
    const tally = this.tallies.get(key);
    if (tally) {
      tally.count++;
      tally.to = now;
    } else {
      this.tallies.set(key, { ip, reason: wait > 0 ? 'rate limited' : reason, target: wait > 0 ? '*' : target, count: 1, from: now, to: now });
    }
    this.timer ??= setTimeout(() => void this.flush(), this.options.flushMs).unref();
    return wait;
  }

  /** Token bucket per client: 0 when a request may go on, else the seconds until one may. */
  private take(ip: string, now: number): number {
    const { burst, perSecond } = this.options;
    const bucket = this.buckets.get(ip) ?? { tokens: burst, at: now };
    this.buckets.delete(ip);
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.at) / 1000) * perSecond);
    bucket.at = now;
    this.buckets.set(ip, bucket);
    if (this.buckets.size > MAX_CLIENTS) this.buckets.delete(this.buckets.keys().next().value!);
    if (bucket.tokens < 1) return Math.ceil((1 - bucket.tokens) / perSecond);
    bucket.tokens -= 1;
    return 0;
  }

  /** Writes the counted refusals, one row per client, reason and target. */
  async flush(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    const tallies = [...this.tallies.values()];
    this.tallies = new Map();
    for (const t of tallies) {
      await this.audit.record({ actor: 'anonymous', action: 'auth.denied', target: t.target, outcome: 'denied', detail: { reason: t.reason, ip: t.ip, count: t.count, from: t.from.toISOString(), to: t.to.toISOString() } });
    }
  }
}
