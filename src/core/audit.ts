import { createHash } from 'node:crypto';
import type { Clock } from './clock.js';
import type { Db, Queryable } from './db.js';

export type AuditOutcome = 'ok' | 'denied' | 'error';

export interface AuditEntry {
  actor: string;
  action: string;
  target?: string | null;
  outcome: AuditOutcome;
  /** Never a value: ids, versions, reasons only. */
  detail?: Record<string, unknown>;
}

export interface AuditRow extends Required<Omit<AuditEntry, 'detail'>> {
  id: number;
  at: Date;
  detail: Record<string, unknown>;
}

/** Longer targets (a 15,000-character URL) are cut, with a hash of the whole, so the row always fits its index. */
const MAX_TARGET = 300;

export function boundedTarget(target: string): string {
  if (target.length <= MAX_TARGET) return target;
  const digest = createHash('sha256').update(target).digest('hex').slice(0, 16);
  return `${target.slice(0, MAX_TARGET - 40)}…(${target.length} chars, sha256 ${digest})`;
}

/** The append-only record of who touched what, shared by every domain. */
export class AuditLog {
  /** Writers that buffer audit rows (secret reads); flushed before the log is read. */
  private readonly buffered: Array<{ flush(): Promise<void> }> = [];

  addBufferedSource(source: { flush(): Promise<void> }): void {
    this.buffered.push(source);
  }

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async record(entry: AuditEntry, q: Queryable = this.db): Promise<void> {
    await q.query('INSERT INTO audit_log (at, actor, action, target, outcome, detail) VALUES ($1, $2, $3, $4, $5, $6)', [
      this.clock.now(),
      entry.actor,
      entry.action,
      entry.target === undefined || entry.target === null ? null : boundedTarget(entry.target),
      entry.outcome,
      JSON.stringify(entry.detail ?? {}),
    ]);
  }

  async list(filter: { target?: string; actor?: string; action?: string; limit: number; before?: number }): Promise<AuditRow[]> {
    await Promise.all(this.buffered.map((s) => s.flush()));
    // Only the filters given, so each combination is planned for itself: a filter written as
    // "$1 IS NULL OR target = $1" keeps a reused plan from using the (target, id) index.
    const conditions: Array<[string, unknown]> = [];
    if (filter.target !== undefined) conditions.push(['target = $', filter.target]);
    if (filter.actor !== undefined) conditions.push(['actor = $', filter.actor]);
    if (filter.action !== undefined) conditions.push(["action LIKE $ || '%'", filter.action]);
    if (filter.before !== undefined) conditions.push(['id < $', filter.before]);
    const where = conditions.map(([sql], i) => sql.replace('$', `$${i + 1}`)).join(' AND ');
    const { rows } = await this.db.query<AuditRow>(
      `SELECT id, at, actor, action, target, outcome, detail FROM audit_log ${where ? `WHERE ${where} ` : ''}ORDER BY id DESC LIMIT $${conditions.length + 1}`,
      [...conditions.map(([, value]) => value), filter.limit],
    );
    return rows;
  }
}
