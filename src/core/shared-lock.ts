import type { Db } from './db.js';
import { SupervisorError } from './errors.js';

/**
 * One holder at a time per key across every daemon on the database (Db.exclusive) — for
 * a read-diff-write against an outside system that offers no precondition (a tunnel's
 * configuration, a zone's DNS records) — with the check its writes need.
 */
export class SharedLock {
  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` holding `key`. `fn` gets `assertHeld`: call it right before each outside
   * write, so a daemon whose lock went with its database connection (another may hold
   * it now) stops instead of overwriting that holder's work.
   */
  run<T>(key: string, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
    return this.db.exclusive(key, (held) =>
      fn(() => {
        if (!held()) throw new SupervisorError('unavailable', `lost the database lock on ${key} (the connection to the database dropped); nothing more was written — run it again`);
      }),
    );
  }
}
