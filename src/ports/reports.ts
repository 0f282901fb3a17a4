import type { Queryable } from '../core/db.js';
import { badCursor, decodeCursor, encodeCursor, type Page } from '../core/page.js';
import { ALLOCATION_COLUMNS, LOCAL_HOST, RANGE_COLUMNS, toAllocation, toRange, type Allocation, type AllocationRow, type ProjectRange, type RangeRow } from './model.js';

export type PortStatus = 'up' | 'down' | 'unknown';

export interface ListFilter {
  project?: string;
  service?: string;
  hostname?: string;
  host?: string;
  status?: 'up' | 'down';
  limit: number;
  cursor?: string;
}

/** Ports listening on this host right now, per protocol; null when nobody looked. */
export interface Listening {
  tcp: number[];
  udp: number[];
}

/** Keyset pages: the cursor is the last row's key, so pages stay stable while rows are added. */
function keyCursor(cursor: string | undefined, parts: number): string[] {
  if (cursor === undefined) return Array<string>(parts).fill('');
  let key: unknown;
  try {
    key = JSON.parse(decodeCursor(cursor));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== parts || !key.every((k) => typeof k === 'string')) throw badCursor();
  return key as string[];
}

function pageOf<R, T>(rows: R[], limit: number, map: (row: R) => T, key: (row: R) => string[]): Page<T> {
  const page = rows.slice(0, limit);
  const last = page.at(-1);
  return { items: page.map(map), nextCursor: rows.length > limit && last ? encodeCursor(JSON.stringify(key(last))) : null };
}

/**
 * Allocations matching the filter, by project, service and host. Status comes from
 * `listening` (a probe of this host); allocations on other hosts are `unknown`.
 */
export async function listAllocations(q: Queryable, filter: ListFilter, listening: Listening | null): Promise<Page<Allocation & { status: PortStatus }>> {
  const after = keyCursor(filter.cursor, 3);
  const { rows } = await q.query<AllocationRow & { status: PortStatus }>(
    `SELECT * FROM (
       SELECT ${ALLOCATION_COLUMNS},
         CASE WHEN NOT $6::boolean OR host <> '${LOCAL_HOST}' THEN 'unknown'
              WHEN port = ANY(CASE WHEN protocol = 'tcp' THEN $7::int[] ELSE $8::int[] END) THEN 'up'
              ELSE 'down' END AS status
       FROM port_allocations
       WHERE ($1::text IS NULL OR project = $1) AND ($2::text IS NULL OR service = $2)
         AND ($3::text IS NULL OR hostname = $3) AND ($4::text IS NULL OR host = $4)
         AND (project, service, host) > ($9, $10, $11)
     ) a
     WHERE ($5::text IS NULL OR status = $5)
     ORDER BY project, service, host LIMIT $12`,
    [
      filter.project ?? null, filter.service ?? null, filter.hostname ?? null, filter.host ?? null, filter.status ?? null,
      listening !== null, listening?.tcp ?? [], listening?.udp ?? [],
      ...after, filter.limit + 1,
    ],
  );
  return pageOf(rows, filter.limit, (r) => ({ ...toAllocation(r), status: r.status }), (r) => [r.project, r.service, r.host]);
}

/** Every allocation on this host (the audit compares them with the sockets /proc shows). */
export async function localAllocations(q: Queryable, project?: string): Promise<Allocation[]> {
  const { rows } = await q.query<AllocationRow>(
    `SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE host = $1 AND ($2::text IS NULL OR project = $2) ORDER BY project, port`,
    [LOCAL_HOST, project ?? null],
  );
  return rows.map(toAllocation);
}

/** Allocations that carry a public hostname, i.e. the tunnel routes the port registry implies. */
export async function routedAllocations(q: Queryable): Promise<Allocation[]> {
  const { rows } = await q.query<AllocationRow>(`SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE hostname IS NOT NULL ORDER BY hostname`);
  return rows.map(toAllocation);
}

export interface ProjectUsage {
  project: ProjectRange;
  /** Distinct ports allocated, over all hosts. */
  used: number;
}

export async function projectUsage(q: Queryable, filter: { project?: string; limit: number; cursor?: string }): Promise<Page<ProjectUsage>> {
  const [after = ''] = keyCursor(filter.cursor, 1);
  const { rows } = await q.query<RangeRow & { used: number }>(
    `SELECT ${RANGE_COLUMNS}, (SELECT count(DISTINCT a.port)::int FROM port_allocations a WHERE a.project = r.project) AS used
     FROM port_ranges r WHERE ($1::text IS NULL OR project = $1) AND project > $2 ORDER BY project LIMIT $3`,
    [filter.project ?? null, after, filter.limit + 1],
  );
  return pageOf(rows, filter.limit, (r) => ({ project: toRange(r), used: r.used }), (r) => [r.project]);
}

/** Who owns a port number on a host: the project whose range holds it, and any allocations of it. */
export async function portOwners(q: Queryable, port: number, host: string): Promise<{ project: ProjectRange | null; allocations: Allocation[] }> {
  const { rows: ranges } = await q.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE port_range @> $1::int`, [port]);
  const { rows } = await q.query<AllocationRow>(`SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE host = $1 AND port = $2 ORDER BY protocol`, [host, port]);
  return { project: ranges[0] ? toRange(ranges[0]) : null, allocations: rows.map(toAllocation) };
}
