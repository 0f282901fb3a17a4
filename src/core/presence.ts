import { hostname } from 'node:os';
import type { Db, Held } from './db.js';
import { SupervisorError } from './errors.js';
import type { Logger } from './log.js';
import { processOwner, stillRuns } from './process-info.js';

/** How soon a lost presence is taken again, and how often a momentarily refused one is tried. */
const RETAKE_MS = 1_000;
const TRIES = 5;
const TRY_GAP_MS = 20;
/**
 * How long a process on another host must stay without its presence before its work is taken
 * over: its own connection may just have dropped, and it takes its presence again within
 * RETAKE_MS (and a connect).
 */
const GONE_AFTER_MS = 3_000;

/**
 * Whether the process that recorded itself as the owner of some work (a PIV loop, a VM resize)
 * still runs, wherever it runs. One on this host is looked at in /proc. One on another host —
 * daemons on several hosts sharing PostgreSQL — cannot be, so every process holds a lock named
 * after itself (`presence:<owner>`) from before it first records itself as an owner: the
 * database releases it when that process's connection dies (killed, its host gone: see
 * SERVER_KEEPALIVE), and whether it is held says whether that process still runs.
 */
export class Presence {
  /** This process as an owner: host, pid and start time. */
  readonly owner = processOwner();
  private held: Held | undefined;
  private announcing: Promise<void> | undefined;
  private retake: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly backListeners: (() => void)[] = [];

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly goneAfterMs = GONE_AFTER_MS,
  ) {}

  /** Holds this process's presence, before it records itself as the owner of anything; once is enough. */
  announce(): Promise<void> {
    if (this.held?.held()) return Promise.resolve();
    this.announcing ??= this.take().finally(() => (this.announcing = undefined));
    return this.announcing;
  }

  /** Calls `listener` each time this process holds its presence again after losing it (others may have taken its work meanwhile). */
  onBack(listener: () => void): void {
    this.backListeners.push(listener);
  }

  /** Whether `owner` (a processOwner() string) still runs; this process does. */
  async alive(owner: string): Promise<boolean> {
    if (owner === this.owner) return true;
    const [, pid, started] = owner.split(':');
    if (onThisHost(owner)) return stillRuns(Number(pid), started || undefined);
    return this.db.isHeld(presenceLock(owner));
  }

  /** The owners among `owners` that still run, each asked once. */
  aliveOf(owners: Iterable<string>): Promise<Set<string>> {
    return pick(owners, (o) => this.alive(o));
  }

  /**
   * Whether `owner` is gone for sure, as taking its work over needs (alive() says how things
   * look now, as a view shows them): one on another host whose presence is free is asked again
   * after a while, as a blip of its connection would otherwise hand its work to a second daemon.
   */
  async gone(owner: string): Promise<boolean> {
    if (await this.alive(owner)) return false;
    if (onThisHost(owner)) return true;
    await new Promise((resolve) => setTimeout(resolve, this.goneAfterMs));
    return !(await this.alive(owner));
  }

  /** The owners among `owners` that are gone for sure (gone()), each asked once and at once. */
  goneOf(owners: Iterable<string>): Promise<Set<string>> {
    return pick(owners, (o) => this.gone(o));
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retake);
    await this.announcing?.catch(() => undefined);
    await this.held?.release();
    this.held = undefined;
  }

  private async take(): Promise<void> {
    if (this.closed) throw new SupervisorError('unavailable', 'the supervisor is stopping');
    // Another process asking whether this one runs holds the lock for the instant of its question.
    for (let attempt = 0; attempt < TRIES; attempt++) {
      const held = await this.db.tryHold(presenceLock(this.owner), () => this.lost());
      if (held) {
        if (this.closed) return void (await held.release());
        this.held = held;
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, TRY_GAP_MS));
    }
    throw new SupervisorError('unavailable', `could not hold this process's presence in the database (${presenceLock(this.owner)} stays held by another session); try again`);
  }

  /** Its connection died: other daemons now take this one for gone, until it holds its presence again. */
  private lost(): void {
    this.held = undefined;
    if (this.closed) return;
    this.log.warn({ owner: this.owner }, "lost this daemon's presence in the database (its connection dropped); other daemons take its loops and resizes for cut off until it is back");
    const again = () => {
      this.retake = setTimeout(() => {
        this.announce().then(
          () => {
            this.log.info({ owner: this.owner }, "this daemon's presence in the database is back");
            for (const listener of this.backListeners) listener();
          },
          () => void (this.closed || again()),
        );
      }, RETAKE_MS);
      this.retake.unref();
    };
    again();
  }
}

const onThisHost = (owner: string): boolean => owner.split(':')[0] === hostname();

async function pick(owners: Iterable<string>, test: (owner: string) => Promise<boolean>): Promise<Set<string>> {
  const unique = [...new Set(owners)];
  const answers = await Promise.all(unique.map(test));
  return new Set(unique.filter((_, i) => answers[i]));
}

export const presenceLock = (owner: string): string => `presence:${owner}`;
