import type { Logger } from './log.js';

/** How often a daemon looks, so the log says it even when nothing asks /readyz. */
export const SCHEMA_WATCH_EVERY_MS = 60_000;

/**
 * Notices that a newer Supervisor sharing the database has migrated it under this running
 * daemon: the daemon reads and writes tables whose shape may have changed, and should be
 * stopped and started from the new version. Said in /readyz (503, so a load balancer takes the
 * daemon out), in `daemon status`, and once in the log.
 */
export class SchemaWatch {
  private said = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly unknownMigrations: () => Promise<string[]>,
    private readonly log: Pick<Logger, 'error'>,
  ) {}

  /** Why this daemon should not serve, or undefined when the database's schema is one it knows. */
  async problem(): Promise<string | undefined> {
    const unknown = await this.unknownMigrations();
    if (unknown.length === 0) return undefined;
    const message = `the database was migrated by a newer Supervisor (${unknown.join(', ')} unknown to this daemon's code): stop this daemon and start it from the new version`;
    if (!this.said) this.log.error({ unknown }, message);
    this.said = true;
    return message;
  }

  /** Looks every `everyMs` until stopped; a failed look (the database away) is /readyz's to report. */
  start(everyMs = SCHEMA_WATCH_EVERY_MS): void {
    this.timer = setInterval(() => void this.problem().catch(() => undefined), everyMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
