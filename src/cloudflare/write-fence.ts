import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../core/db.js';

export interface WriteFenceOptions {
  /** How long a request may still land after its writer's last sign of life: the client's per-attempt timeout and a margin. */
  landMs: number;
  /** How often a live writer says so. */
  heartbeatMs: number;
  /** How often a waiting holder looks again. */
  pollMs: number;
}

/**
 * Fences the writes a lock serialises against requests an earlier holder had already sent
 * (see the cloudflare_writes_in_flight migration). The holder of a key's lock calls `settle`
 * before it reads what is there, and sends each write through `send`. Timestamps are the
 * database's, so daemons on different hosts agree on them.
 */
export class WriteFence {
  constructor(
    private readonly db: Db,
    private readonly options: WriteFenceOptions,
  ) {}

  /** Resolves once no write sent under `key` by an earlier holder can still land. */
  async settle(key: string): Promise<void> {
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

  /** Runs `write` marked as in flight under `key` until it has answered. */
  async send<T>(key: string, write: () => Promise<T>): Promise<T> {
    const writer = randomUUID();
    const seconds = this.options.landMs / 1000;
    await this.db.query(
      `INSERT INTO cloudflare_writes_in_flight (lock_key, writer, landed_by) VALUES ($1, $2, now() + make_interval(secs => $3::float8))
       ON CONFLICT (lock_key) DO UPDATE SET writer = excluded.writer, landed_by = excluded.landed_by`,
      [key, writer, seconds],
    );
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
