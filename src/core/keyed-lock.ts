/**
 * Runs callbacks one at a time per key, in arrival order, within this process. Used where
 * an outside system offers no precondition (Cloudflare's tunnel PUT, a read-modify-write of
 * DNS records): two calls for the same key must not interleave their read and their write.
 */
export class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const mine = new Promise<void>((resolve) => (release = resolve));
    const tail = previous.then(() => mine);
    this.tails.set(key, tail);
    await previous;
    try {
      return await fn();
    } finally {
      release();
      // The last holder removes the key so the map does not grow with every hostname ever seen.
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}
