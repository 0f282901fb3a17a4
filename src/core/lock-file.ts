import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, stat } from 'node:fs/promises';
import { z } from 'zod';
import { createFileExclusive } from './files.js';
import { dirname } from 'node:path';
import { placeOf } from './place.js';
import { ownStart, stillRuns } from './process-info.js';

/**
 * A lock held by one process at a time, as a file naming its holder. It outlives a
 * crash, so a lock whose holder is gone is taken over: the holder is gone when its
 * pid no longer runs, or runs a process started at another time (pid reuse, e.g. a
 * restarted container where every daemon is pid 1), or is this very process (which
 * callers serialise themselves, so a lock naming us is left from an earlier run).
 */
const LockHolder = z.object({
  pid: z.number().int(),
  role: z.string(),
  startedAt: z.string(),
  /** Kernel start time of the process (/proc/<pid>/stat), where there is a /proc. */
  processStart: z.string().optional(),
  /** Tells our own lock from one that replaced it. */
  nonce: z.string().optional(),
  /** The folder the lock was taken in (placeOf): the file copied with its folder does not lock the copy. */
  place: z.string().optional(),
});
export type LockHolder = z.infer<typeof LockHolder>;

function holderIsGone(holder: LockHolder, place: string): boolean {
  return holder.pid === process.pid || (holder.place !== undefined && holder.place !== place) || !stillRuns(holder.pid, holder.processStart);
}

interface Seen {
  holder: LockHolder | undefined;
  ino: number;
}

/** The holder (undefined when unreadable) and the inode, both from one open file. */
async function readLock(path: string): Promise<Seen | undefined> {
  let handle;
  try {
    handle = await open(path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const { ino } = await handle.stat();
    const text = await handle.readFile('utf8');
    let holder: LockHolder | undefined;
    try {
      const parsed = LockHolder.safeParse(JSON.parse(text));
      holder = parsed.success ? parsed.data : undefined;
    } catch {
      holder = undefined;
    }
    return { holder, ino };
  } finally {
    await handle.close();
  }
}

/**
 * Removes the lock file we judged stale, and only that one: it is renamed aside
 * first, and put back if, in between, another process had replaced it with its own.
 * (Were a third process to take the name within those two calls, both it and the
 * one put back would hold the lock; callers that must be exact add a database lock.)
 */
async function removeStale(path: string, stale: Seen): Promise<void> {
  const aside = `${path}.${randomBytes(6).toString('hex')}.stale`;
  try {
    await rename(path, aside);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  try {
    if ((await stat(aside)).ino !== stale.ino) await createFileExclusive(path, await readFile(aside));
  } finally {
    await rm(aside, { force: true });
  }
}

export interface HeldLock {
  release(): Promise<void>;
}

/** Takes the lock if it is free or its holder is gone; otherwise answers who holds it. */
export async function tryLockFile(path: string, role: string): Promise<{ held: HeldLock } | { holder: LockHolder }> {
  const place = await placeOf(dirname(path));
  const mine: LockHolder = { pid: process.pid, role, startedAt: new Date().toISOString(), processStart: ownStart, nonce: randomBytes(8).toString('hex'), place };
  for (;;) {
    if (await createFileExclusive(path, JSON.stringify(mine))) {
      const release = async () => {
        // Never remove a lock that is no longer ours.
        if ((await readLock(path))?.holder?.nonce === mine.nonce) await rm(path, { force: true });
      };
      return { held: { release } };
    }
    const seen = await readLock(path);
    if (seen?.holder && !holderIsGone(seen.holder, place)) return { holder: seen.holder };
    if (seen) await removeStale(path, seen);
  }
}

/**
 * Takes the lock, waiting while a live process holds it; after `waitMs` throws
 * what `busy` makes of the holder.
 */
export async function lockFileWaiting(path: string, role: string, waitMs: number, busy: (holder: LockHolder) => Error): Promise<HeldLock> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    const attempt = await tryLockFile(path, role);
    if ('held' in attempt) return attempt.held;
    if (Date.now() >= deadline) throw busy(attempt.holder);
    await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 40));
  }
}
