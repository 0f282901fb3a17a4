import type { Held, Holding } from './db.js';
import { KeyedLock } from './keyed-lock.js';

/**
 * The same locks for a database only one process can open (PGlite): every holder is
 * in this process, so a lock in memory is the whole truth, and the database's single
 * connection is never held while the caller works.
 */
export class LocalLocks {
  private readonly waits = new KeyedLock();
  private readonly holders = new Set<string>();

  /** `holding` runs statements on the database: a lock in this process cannot be lost. */
  exclusive<T>(name: string, holding: Holding, fn: (holding: Holding) => Promise<T>): Promise<T> {
    return this.waits.run(name, () => fn(holding));
  }

  isHeld(name: string): boolean {
    return this.holders.has(name);
  }

  tryHold(name: string): Held | undefined {
    if (this.holders.has(name)) return undefined;
    this.holders.add(name);
    let held = true;
    return {
      held: () => held,
      backendPid: () => undefined,
      release: async () => {
        if (held) this.holders.delete(name);
        held = false;
      },
    };
  }
}
