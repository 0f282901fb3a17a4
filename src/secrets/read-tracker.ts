import { writeBatch } from '../core/batch-retry.js';
import { BatchWriter } from '../core/batch-writer.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';

interface Read {
  secretId: number;
  path: string;
  version: number;
  actor: string;
  at: Date;
}

/** One statement for a batch of reads: each read's audit row, and each secret's count and last read. */
const WRITE_READS_SQL = `WITH reads AS (
   SELECT * FROM unnest($1::bigint[], $2::text[], $3::int[], $4::text[], $5::timestamptz[]) AS r(secret_id, path, version, actor, at)
 ),
 touched AS (
   UPDATE secrets s SET read_count = s.read_count + c.n, last_read_at = GREATEST(s.last_read_at, c.last)
   FROM (SELECT secret_id, count(*) AS n, max(at) AS last FROM reads GROUP BY secret_id) c
   WHERE s.id = c.secret_id
 )
 INSERT INTO audit_log (at, actor, action, target, outcome, detail)
 SELECT at, actor, 'secret.read', path, 'ok', jsonb_build_object('version', version) FROM reads`;

/**
 * Group-commits secret reads: each read's audit row and access tracking
 * (read_count, last_read_at) are buffered for at most 50 ms and written by one
 * statement, so a read costs one SELECT instead of a write transaction. Anything
 * that reads tracking data (lists, the audit log) flushes first, and shutdown
 * flushes; a daemon crash can lose at most the last 50 ms of read-audit. A write the database
 * refuses for a while (a dropped connection, a restart) is tried again for up to 30 s.
 * Writes, deletes and denials are audited synchronously, in their transaction.
 */
export class ReadTracker {
  /** Reads not yet committed (buffered or being written), by secret. */
  private readonly pendingBySecret = new Map<number, number>();
  private readonly writer: BatchWriter<Read>;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly sleep?: (ms: number) => Promise<unknown>,
  ) {
    this.writer = new BatchWriter({ flushMs: 50, flushAt: 500, write: (batch) => this.write(batch), settled: (batch) => this.settle(batch) });
  }

  track(read: Read): void {
    this.writer.push(read);
    this.pendingBySecret.set(read.secretId, (this.pendingBySecret.get(read.secretId) ?? 0) + 1);
  }

  /** Reads of one secret not yet written, so an answer can count them. */
  pending(secretId: number): number {
    return this.pendingBySecret.get(secretId) ?? 0;
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  /** Once a batch is committed the rows count its reads, so stop counting them here. */
  private settle(batch: Read[]): void {
    for (const read of batch) {
      const left = (this.pendingBySecret.get(read.secretId) ?? 1) - 1;
      if (left > 0) this.pendingBySecret.set(read.secretId, left);
      else this.pendingBySecret.delete(read.secretId);
    }
  }

  private write(batch: Read[]): Promise<void> {
    const columns = [batch.map((r) => r.secretId), batch.map((r) => r.path), batch.map((r) => r.version), batch.map((r) => r.actor), batch.map((r) => r.at)];
    return writeBatch(batch.length, () => this.db.query(WRITE_READS_SQL, columns), { what: 'secret read audit rows', log: this.log, sleep: this.sleep });
  }
}
