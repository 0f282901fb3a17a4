import type { Db, Held } from './db.js';
import type { Logger } from './log.js';

export interface LeadershipOptions {
  /** How often a daemon that does not lead tries again. */
  retryMs: number;
  /** Told when this daemon starts or stops leading (a scheduler starts or stops its jobs). */
  onChange?(leading: boolean): void;
}

/**
 * Exactly one daemon on the database leads `name` at a time — what a scheduler needs
 * so a job runs once however many daemons share PostgreSQL. The leader holds a lock
 * on a connection of its own; when that connection dies (the daemon crashed, the
 * network went), the database releases it and another daemon takes over at its next
 * try. On PGlite there is one process, so it always leads.
 */
export class Leadership {
  private holding: Held | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopped = true;
  private trying: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly name: string,
    private readonly log: Logger,
    private readonly options: LeadershipOptions,
  ) {}

  get leading(): boolean {
    return this.holding?.held() ?? false;
  }

  /** The server process holding the lock, while this daemon leads (tests, health). */
  backendPid(): number | undefined {
    return this.holding?.backendPid();
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.tryNow();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.trying;
    const held = this.holding;
    this.holding = undefined;
    if (held?.held()) {
      await held.release();
      this.options.onChange?.(false);
    }
  }

  private tryNow(): Promise<void> {
    this.trying = (async () => {
      try {
        const held = await this.db.tryHold(this.name, () => this.lost());
        if (held && this.stopped) return void (await held.release());
        if (held) {
          this.holding = held;
          this.log.info({ lock: this.name }, 'leading');
          this.options.onChange?.(true);
        }
      } catch (err) {
        this.log.warn({ lock: this.name, err: (err as Error).message }, 'could not try to lead');
      } finally {
        if (!this.stopped && !this.leading) this.schedule();
      }
    })();
    return this.trying;
  }

  private lost(): void {
    this.holding = undefined;
    this.log.warn({ lock: this.name }, 'lost the lead (its database connection dropped)');
    this.options.onChange?.(false);
    if (!this.stopped) this.schedule();
  }

  private schedule(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tryNow(), this.options.retryMs);
    this.timer.unref();
  }
}
