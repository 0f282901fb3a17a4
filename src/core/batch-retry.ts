import { setTimeout as delay } from 'node:timers/promises';
import { SupervisorError } from './errors.js';
import { backoffMs } from './http-retry.js';
import type { Logger } from './log.js';

export interface BatchRetryOptions {
  /** What the rows are, for the log ("secret read audit rows"). */
  what: string;
  log: Pick<Logger, 'warn' | 'error'>;
  /** How long to keep trying while the database is unavailable. Default 30 s: a restart or a failover. */
  withinMs?: number;
  /** Injectable so tests do not sit through the waits. */
  sleep?: (ms: number) => Promise<unknown>;
}

const RETRY_WITHIN_MS = 30_000;

/**
 * Writes one buffered batch, trying again while the database is unavailable (a connection
 * dropped, the server restarting): rows a caller was already answered for, such as the audit of
 * a secret read, must outlive a blip, not only a crash-free run. Anything else, or an outage
 * longer than `withinMs`, is logged with the number of rows lost, and never thrown: the
 * buffer's writer must go on with the next batch.
 */
export async function writeBatch(rows: number, write: () => Promise<unknown>, options: BatchRetryOptions): Promise<void> {
  const sleep = options.sleep ?? delay;
  const until = Date.now() + (options.withinMs ?? RETRY_WITHIN_MS);
  for (let retry = 1; ; retry++) {
    try {
      await write();
      return;
    } catch (err) {
      const wait = backoffMs(retry);
      if (!(err instanceof SupervisorError && err.code === 'unavailable') || Date.now() + wait > until) {
        options.log.error({ err, lost: rows }, `could not write ${options.what}`);
        return;
      }
      options.log.warn({ reason: err.message, rows, retry, waitMs: wait }, `could not write ${options.what}; trying again`);
      await sleep(wait);
    }
  }
}
