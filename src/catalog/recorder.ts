import { writeBatch } from '../core/batch-retry.js';
import { BatchWriter } from '../core/batch-writer.js';
import { boundedJson } from '../core/bounded-json.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import type { Logger } from '../core/log.js';
import { deleteOlderThan } from '../core/prune.js';

export interface CallRecord {
  at: Date;
  operation: string;
  via: string;
  actor: string;
  project: string | null;
  outcome: string;
  durationMs: number;
  input: Record<string, unknown>;
}

const INSERT_CALLS_SQL = `INSERT INTO operation_calls (at, operation, interface, actor, project, outcome, duration_ms, input)
 SELECT * FROM unnest($1::timestamptz[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::float8[], $8::jsonb[])`;

/** Records past the retention are deleted at most this often, after a write. */
const PRUNE_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Writes operation call records in batches, off the request path: a call costs
 * an array push, and a second of records costs one INSERT. Records older than
 * the retention are deleted as it goes, so a busy daemon's table stays bounded.
 */
export class CallRecorder {
  private readonly writer: BatchWriter<CallRecord>;
  private prunedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly retention: { clock: Clock; days: () => number },
  ) {
    this.writer = new BatchWriter({ flushMs: 1000, flushAt: 200, write: (batch) => this.write(batch) });
  }

  /** Bounded on the way in: the buffer never holds a caller's whole input, and every record can be written. */
  record(call: CallRecord): void {
    // Written out rather than `{ ...call, operation, input }`: a spread followed by more keys takes V8's slow path, on every call.
    this.writer.push({
      at: call.at,
      operation: boundedJson(call.operation) as string,
      via: call.via,
      actor: call.actor,
      project: call.project,
      outcome: call.outcome,
      durationMs: call.durationMs,
      input: boundedJson(call.input) as Record<string, unknown>,
    });
  }

  flush(): Promise<void> {
    return this.writer.flush();
  }

  private async write(batch: CallRecord[]): Promise<void> {
    const columns = [
      batch.map((c) => c.at),
      batch.map((c) => c.operation),
      batch.map((c) => c.via),
      batch.map((c) => c.actor),
      batch.map((c) => c.project),
      batch.map((c) => c.outcome),
      batch.map((c) => c.durationMs),
      batch.map((c) => JSON.stringify(c.input)),
    ];
    await writeBatch(batch.length, () => this.db.query(INSERT_CALLS_SQL, columns), { what: 'operation call records', log: this.log });
    await this.prune();
  }

  private async prune(): Promise<void> {
    const now = this.retention.clock.now().getTime();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    try {
      await deleteOlderThan(this.db, 'operation_calls', new Date(now - this.retention.days() * DAY_MS));
    } catch (err) {
      this.log.warn({ err }, 'could not delete old operation call records');
    }
  }
}
