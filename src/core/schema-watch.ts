import type { Logger } from './log.js';

/** Why a daemon should not serve: the migrations the database has and its code does not. */
export interface SchemaProblem {
  message: string;
  unknown: string[];
}

/** How often a daemon looks, so the log says it even when nothing asks /readyz. */
export const SCHEMA_WATCH_EVERY_MS = 60_000;

/**
 * Notices that a newer Supervisor sharing the database has migrated it under this running
 * daemon: the daemon reads and writes tables whose shape may have changed, and should be
 * stopped and started from the new version. Said in /readyz (503, so a load balancer takes the
 * daemon out), in `daemon status`, and in the log once each time it starts, and when it ends.
 */
export class SchemaWatch {
  private said = false;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly unknownMigrations: () => Promise<string[]>,
    private readonly log: Pick<Logger, 'error' | 'info'>,
  ) {}

  /** Why this daemon should not serve, or undefined when the database's schema is one it knows. */
  async problem(): Promise<SchemaProblem | undefined> {
    const unknown = await this.unknownMigrations();
    if (unknown.length === 0) {
      // The rows went (a rollback of the upgrade): serving again is worth a line too.
      if (this.said) this.log.info({}, "the database's migrations are all known to this daemon's code again");
      this.said = false;
      return undefined;
    }
    const message = `the database was migrated by a newer Supervisor (${unknown.join(', ')} unknown to this daemon's code): stop this daemon and start it from the new version`;
    if (!this.said) this.log.error({ unknown }, message);
    this.said = true;
    return { message, unknown };
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
