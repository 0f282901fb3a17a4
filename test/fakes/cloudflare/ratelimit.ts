// Per-token request quota, reported the way the API does since 2025-09 (IETF draft headers).

export interface RateDecision {
  allowed: boolean;
  /** Ratelimit / Ratelimit-Policy always; Retry-After only once the quota is spent. */
  headers: Record<string, string>;
}

/**
 * Fixed window per token: the documented limit is 1,200 requests per 5 minutes, and past it
 * "all API calls for the next five minutes will be blocked" with HTTP 429 — so a spent quota
 * blocks until the window ends.
 */
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  take(key: string): RateDecision {
    const now = this.now();
    let window = this.windows.get(key);
    if (!window || now >= window.start + this.windowMs) {
      window = { start: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    const resetSeconds = Math.max(1, Math.ceil((window.start + this.windowMs - now) / 1000));
    const allowed = window.count <= this.limit;
    const headers: Record<string, string> = {
      Ratelimit: `"default";r=${Math.max(0, this.limit - window.count)};t=${resetSeconds}`,
      'Ratelimit-Policy': `"default";q=${this.limit};w=${Math.ceil(this.windowMs / 1000)}`,
    };
    if (!allowed) headers['Retry-After'] = String(resetSeconds);
    return { allowed, headers };
  }
}
