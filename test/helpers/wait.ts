import assert from 'node:assert/strict';

/**
 * Polls `check` until it holds and answers how long that took (ms); fails naming
 * `what` once `ms` have passed. For things that happen by themselves (a notification,
 * a reconnection, a request reaching a fake) — never a timing assertion on our speed.
 */
export async function within(ms: number, what: string, check: () => boolean | Promise<boolean>, pollMs = 5): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    assert.ok(performance.now() - start < ms, `${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  return performance.now() - start;
}
