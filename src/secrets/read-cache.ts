/**
 * The current version of recently read secrets, as stored (ciphertext, never the
 * plaintext), so a hot read needs no database round trip — as Vault keeps a cache
 * in front of its storage. Bounded by entries and bytes (least recently used go).
 *
 * Kept right by two means: every write in this process forgets the path before and
 * after its transaction (a read that raced the write cannot put the old row back:
 * each forget bumps the path's generation, and a row read under an older generation
 * is not stored); and writes by other daemons sharing the database arrive as
 * notifications. While the notification connection is down the cache is not
 * trusted at all, and it is emptied when the connection is back.
 */
export interface CacheLimits {
  entries: number;
  bytes: number;
}

interface Entry<R> {
  row: R;
  bytes: number;
  /** Reads of this row answered here, added to the count it had when it was read. */
  readCount: number;
}

/** Notification channel for secret changes: `<sender>\t<path>`, the path `*` meaning "forget everything". */
export const SECRETS_CHANNEL = 'supervisor_secrets';
export const FORGET_ALL = '*';

export const changePayload = (sender: string, path: string): string => `${sender}\t${path}`;

/** A payload without a sender (an older daemon, a hand-sent NOTIFY) counts as someone else's, whole. */
export function parseChange(payload: string): { from: string | undefined; path: string } {
  const tab = payload.indexOf('\t');
  return tab === -1 ? { from: undefined, path: payload } : { from: payload.slice(0, tab), path: payload.slice(tab + 1) };
}

export class ReadCache<R extends { ciphertext: Buffer }> {
  private readonly entries = new Map<string, Entry<R>>();
  /** Forgets per path since the last clear; a clear starts a new epoch instead of touching every path. */
  private readonly generations = new Map<string, number>();
  private epoch = 0;
  private bytes = 0;
  private trusted = false;

  constructor(private readonly limits: CacheLimits) {}

  get enabled(): boolean {
    return this.trusted && this.limits.entries > 0 && this.limits.bytes > 0;
  }

  /** Whether writes by other daemons are heard now (so a path's generation moves with them). */
  get hearing(): boolean {
    return this.trusted;
  }

  /** Whether notifications are heard; untrusted, the cache is empty and unused. */
  setTrusted(trusted: boolean): void {
    this.trusted = trusted;
    this.clear();
  }

  /** A path's generation, read before its row is fetched; `put` stores the row only if it is unchanged. */
  generation(path: string): string {
    return `${this.epoch}/${this.generations.get(path) ?? 0}`;
  }

  get(path: string): Entry<R> | undefined {
    if (!this.enabled) return undefined;
    const entry = this.entries.get(path);
    if (!entry) return undefined;
    // Most recently used last: Map keeps insertion order.
    this.entries.delete(path);
    this.entries.set(path, entry);
    return entry;
  }

  put(path: string, generation: string, row: R, readCount: number): void {
    if (!this.enabled || this.generation(path) !== generation) return;
    const bytes = row.ciphertext.length + path.length * 2 + 512;
    if (bytes > this.limits.bytes) return;
    this.drop(path);
    this.entries.set(path, { row, bytes, readCount });
    this.bytes += bytes;
    for (const [oldest] of this.entries) {
      if (this.entries.size <= this.limits.entries && this.bytes <= this.limits.bytes) break;
      this.drop(oldest);
    }
  }

  /** A read of the path made without the cache (export, run environments): its entry's count follows. */
  counted(path: string): void {
    const entry = this.entries.get(path);
    if (entry) entry.readCount++;
  }

  forget(path: string): void {
    // The per-path counters are reset by a clear; past a bound, a clear is cheaper than remembering more.
    if (path === FORGET_ALL || this.generations.size >= 100_000) return this.clear();
    this.generations.set(path, (this.generations.get(path) ?? 0) + 1);
    this.drop(path);
  }

  /** Empties the cache; a read begun before it cannot store its row after it (new epoch). */
  clear(): void {
    this.epoch++;
    this.generations.clear();
    this.entries.clear();
    this.bytes = 0;
  }

  get size(): number {
    return this.entries.size;
  }

  private drop(path: string): void {
    const entry = this.entries.get(path);
    if (!entry) return;
    this.entries.delete(path);
    this.bytes -= entry.bytes;
  }
}
