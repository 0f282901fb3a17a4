import type pg from 'pg';
import { SupervisorError } from './errors.js';

/**
 * How long a statement waits for its answer when the server cancels it after `limitMs`
 * (its statement_timeout): a tenth longer, at most 2 s, so the server's own cancel arrives
 * first whenever the connection works, and only a silent connection reaches the watchdog.
 */
const silentAfterMs = (limitMs: number): number => limitMs + Math.min(limitMs / 10, 2_000);

/**
 * Sends one statement on `client` and gives up on the connection when no answer comes in time
 * (`limitMs` 0: no limit). A connection the network or a NAT silently dropped (no RST, no FIN)
 * would keep the statement, and the request that sent it, waiting for as long as the kernel
 * retransmits (some 15 minutes). Its socket is destroyed, not just the statement abandoned (as
 * pg's own query_timeout does): a pooled connection kept would hand the late answer to its next
 * caller. The pool then replaces it, once it is released with the error it now carries.
 */
export async function answered<T>(client: pg.PoolClient, limitMs: number, send: () => Promise<T>): Promise<T> {
  if (limitMs === 0) return send();
  let silent = false;
  const watchdog = setTimeout(() => {
    silent = true;
    client.connection.stream.destroy();
  }, silentAfterMs(limitMs));
  try {
    return await send();
  } catch (err) {
    if (!silent) throw err;
    throw new SupervisorError(
      'unavailable',
      `PostgreSQL did not answer a statement within ${silentAfterMs(limitMs) / 1000} s, so its connection was dropped (the network or the database host may be down); the daemon reconnects by itself, try again`,
    );
  } finally {
    clearTimeout(watchdog);
  }
}
