import type { Clock } from '../core/clock.js';
import type { Db, Queryable } from '../core/db.js';
import type { DnsRecord } from './client.js';
import { isOwned } from './records.js';

export interface Change {
  action: string;
  target: string;
  outcome: 'ok' | 'error';
  /** Ids, types, contents, error text: never the token. */
  detail: Record<string, unknown>;
}

export interface ChangeRow extends Change {
  id: number;
  at: Date;
  actor: string;
  operation: string;
}

/** Who changed what in Cloudflare or cloudflared's config, when, and how it went. */
export class ChangeLog {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async record(actor: string, operation: string, changes: Change[], q: Queryable = this.db): Promise<void> {
    if (changes.length === 0) return;
    const at = this.clock.now();
    const values: unknown[] = [];
    const rows = changes.map((c, i) => {
      values.push(at, actor, operation, c.action, c.target, c.outcome, JSON.stringify(c.detail));
      const b = i * 7;
      return `($${b + 1}, $${b + 2}, $${b + 3}, $${b + 4}, $${b + 5}, $${b + 6}, $${b + 7})`;
    });
    await q.query(`INSERT INTO cloudflare_changes (at, actor, operation, action, target, outcome, detail) VALUES ${rows.join(', ')}`, values);
  }

  async list(filter: { target?: string; limit: number; before?: number }): Promise<ChangeRow[]> {
    const { rows } = await this.db.query<ChangeRow>(
      `SELECT id, at, actor, operation, action, target, outcome, detail FROM cloudflare_changes
       WHERE ($1::text IS NULL OR target = $1) AND ($2::bigint IS NULL OR id < $2)
       ORDER BY id DESC LIMIT $3`,
      [filter.target ?? null, filter.before ?? null, filter.limit],
    );
    return rows;
  }
}

/** The dns_records table: Cloudflare's records as last seen, kept current by every applied change. */
export class RecordMirror {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** One statement for any number of records: a sync of hundreds must not cost hundreds of round trips. */
  async saw(zone: { id: string; name: string }, records: DnsRecord[], q: Queryable = this.db): Promise<void> {
    if (records.length === 0) return;
    const column = <T>(pick: (r: DnsRecord) => T) => records.map(pick);
    await q.query(
      `INSERT INTO dns_records (zone_id, record_id, zone_name, name, type, content, proxied, ttl, comment, owned, seen_at)
       SELECT $1, r.id, $2, r.name, r.type, r.content, r.proxied, r.ttl, r.comment, r.owned, $3
       FROM unnest($4::text[], $5::text[], $6::text[], $7::text[], $8::boolean[], $9::int[], $10::text[], $11::boolean[])
         AS r(id, name, type, content, proxied, ttl, comment, owned)
       ON CONFLICT (zone_id, record_id) DO UPDATE SET name = EXCLUDED.name, type = EXCLUDED.type, content = EXCLUDED.content,
         proxied = EXCLUDED.proxied, ttl = EXCLUDED.ttl, comment = EXCLUDED.comment, owned = EXCLUDED.owned, seen_at = EXCLUDED.seen_at`,
      [
        zone.id,
        zone.name,
        this.clock.now(),
        column((r) => r.id),
        column((r) => r.name.toLowerCase()),
        column((r) => r.type),
        column((r) => r.content),
        column((r) => r.proxied),
        column((r) => r.ttl),
        column((r) => r.comment ?? null),
        column((r) => isOwned(r)),
      ],
    );
  }

  async gone(zoneId: string, recordIds: string[], q: Queryable = this.db): Promise<void> {
    if (recordIds.length === 0) return;
    await q.query('DELETE FROM dns_records WHERE zone_id = $1 AND record_id = ANY($2::text[])', [zoneId, recordIds]);
  }

  /** A whole zone as listed now: rows for records that no longer exist go. */
  async replaceZone(zone: { id: string; name: string }, records: DnsRecord[], q: Queryable): Promise<void> {
    await q.query('DELETE FROM dns_records WHERE zone_id = $1', [zone.id]);
    await this.saw(zone, records, q);
  }
}
