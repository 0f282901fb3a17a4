import type { Db } from './db.js';
import { SupervisorError } from './errors.js';
import { KeyedLock } from './keyed-lock.js';

/**
 * One holder at a time per key across every daemon on the database — for a
 * read-diff-write against an outside system that offers no precondition (a tunnel's
 * configuration, a zone's DNS records). Callers in this process queue here first, so
 * waiting costs no database connection; the holder then takes the database's lock.
 */
export class SharedLock {
  private readonly local = new KeyedLock();

  constructor(private readonly db: Db) {}

  /**
   * Runs `fn` holding `key`. `fn` gets `assertHeld`: call it right before each outside
   * write, so a daemon whose lock went with its database connection (another may hold
   * it now) stops instead of overwriting that holder's work.
   */
  run<T>(key: string, fn: (assertHeld: () => void) => Promise<T>): Promise<T> {
    return this.local.run(key, () =>
      this.db.exclusive(key, (held) =>
        fn(() => {
          if (!held()) throw new SupervisorError('unavailable', `lost the database lock on ${key} (the connection to the database dropped); nothing more was written — run it again`);
        }),
      ),
    );
  }
}
