import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db, Holding } from '../core/db.js';

export interface WriteFenceOptions {
  /** How long a request may still land after its writer's last sign of life: the client's per-attempt timeout and a margin. */
  landMs: number;
  /** How often a live writer says so. */
  heartbeatMs: number;
  /** How often a waiting holder looks again. */
  pollMs: number;
}

/**
 * Sends one outside write, and the holder's record of it (what it wrote, into the database),
 * marked as in flight until both are done.
 */
export type Fenced = <R>(write: () => Promise<R>) => Promise<R>;

/**
 * One holder at a time per key across every daemon on the database, for a read-diff-write
 * against an outside system that offers no precondition (a tunnel's configuration, a zone's
 * DNS records) — fenced against what an earlier holder had already sent when it lost the lock
 * (its database connection dropped, or it died): such a request can still land, and its
 * sender then still records it (see the cloudflare_writes_in_flight migration). A holder reads
 * only once nothing marked can still land or be recorded, so it never takes a write it has not
 * seen for the state it builds on. Timestamps are the database's, so daemons on different
 * hosts agree on them.
 */
export class WriteFence {
  constructor(
    private readonly db: Db,
    private readonly options: WriteFenceOptions,
  ) {}

  /** Runs `fn` holding `key`, once no write an earlier holder marked can still land; `fn` sends each write through `fenced`. */
  run<T>(key: string, fn: (fenced: Fenced) => Promise<T>): Promise<T> {
    return this.db.exclusive(key, async (holding) => {
      await this.settle(key);
      return fn((write) => this.send(key, holding, write));
    });
  }

  /** Resolves once no write marked under `key` can still land. */
  private async settle(key: string): Promise<void> {
    for (;;) {
      const { rows } = await this.db.query<{ ms: number }>(
        'SELECT ceil(EXTRACT(EPOCH FROM (landed_by - now())) * 1000)::int AS ms FROM cloudflare_writes_in_flight WHERE lock_key = $1',
        [key],
      );
      const ms = rows[0]?.ms;
      if (ms === undefined || ms <= 0) return;
      await sleep(Math.min(ms, this.options.pollMs));
    }
  }

  private async send<R>(key: string, holding: Holding, write: () => Promise<R>): Promise<R> {
    const writer = randomUUID();
    const seconds = this.options.landMs / 1000;
    // Marked on the lock's own session: the mark is made only while the lock is held, so a
    // holder that lost it (noticed or not) sends nothing, and the next holder, which can take
    // the lock only after that session ended, sees every mark made under it.
    await holding.query(
      `INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ($1, $2, now() + make_interval(secs => $3::float8))
       ON CONFLICT (lock_key) DO UPDATE SET writer = excluded.writer, landed_by = excluded.landed_by`,
      [key, writer, seconds],
    );
    // The rest on the pool: a write sent before the lock was lost is still in flight, and still marked.
    // An UPDATE, not the upsert: a beat that arrives after the row is deleted must not bring it back.
    const beat = setInterval(() => {
      this.db
        .query('UPDATE cloudflare_writes_in_flight SET landed_by = now() + make_interval(secs => $3::float8) WHERE lock_key = $1 AND writer = $2', [key, writer, seconds])
        .catch(() => undefined);
    }, this.options.heartbeatMs).unref();
    try {
      return await write();
    } finally {
      clearInterval(beat);
      // Left behind if the database is unreachable now: the next holder then waits out landed_by.
      await this.db.query('DELETE FROM cloudflare_writes_in_flight WHERE lock_key = $1 AND writer = $2', [key, writer]).catch(() => undefined);
    }
  }
}
