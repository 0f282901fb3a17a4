import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db, Queryable, Tx } from '../core/db.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { schemaLockKey } from '../core/schema-lock.js';
import { SHARED } from '../core/names.js';
import type { OwnedItems } from '../core/project-data.js';
import { CHECK_VIOLATION, EXCLUSION_VIOLATION, FOREIGN_KEY_VIOLATION, violates } from './db-errors.js';
import { ALLOCATION_COLUMNS, RANGE_COLUMNS, toRange, type AllocationRow, type ProjectRange, type RangeRow } from './model.js';
import type { Exclusions, PortPolicy } from './policy.js';
import { formatRange, MAX_PORT, overlapSize, type PortRange } from './range.js';

/**
 * Serialises range changes (assign, set). Two concurrent inserts that violate the
 * exclusion constraint against each other deadlock (each waits for the other's check);
 * taken in turn, the second one gets a clean exclusion violation. It also makes two
 * projects added at once pick different blocks. Range changes are rare.
 */
const RANGES_LOCK = schemaLockKey('port-ranges');

export interface RangeRegistryDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  policy: PortPolicy;
  exclusions: () => Promise<Exclusions>;
}

const noRange = (project: string) =>
  notFound(`project ${project} has no port range (it does not exist, or no block was free when it was added); \`list_projects\` shows the projects, \`set_port_range\` gives one a range`);

/** The way out a refused range names: a project being added can take the next free block; a range being set can move. */
const ADDING = 'or omit the range to get the next free block';
const MOVING = 'or move the project elsewhere with range first-last';

/** Each project's port range; the database keeps ranges disjoint and every allocation inside its range. */
export class RangeRegistry {
  constructor(private readonly deps: RangeRegistryDeps) {}

  /**
   * Gives a project just added its range, inside the transaction that adds it:
   * exactly `explicit` when given (refused if it overlaps another project), else
   * `shared` gets the shared range and every other project the next free default
   * block (meta, created first, gets the first). When no block is free the project
   * is added without one, and the note says how to give it one.
   */
  async assign(tx: Tx, project: string, actor: string, explicit?: PortRange): Promise<string> {
    await tx.query(`SELECT pg_advisory_xact_lock(${RANGES_LOCK})`);
    if (explicit) await this.refuseUnusable(explicit, 'range', ADDING);
    if (explicit) {
      // Checked under the lock every range change takes, so nothing can change between the check and the insert;
      // an exclusion violation would abort the transaction before the error could name the owners.
      const overlap = await this.overlapError(project, explicit, ADDING, tx);
      if (overlap) throw overlap;
    }
    const range = explicit ?? (project === SHARED ? this.deps.policy.sharedRange : await this.nextFreeBlock(tx));
    if (!range) return `no free block of ${this.deps.policy.blockSize} ports is left from ${this.deps.policy.defaultBlockStart}; give it a range with \`set_port_range\``;
    // ON CONFLICT DO NOTHING covers the exclusion constraint too: a shared range someone already took stays theirs.
    const { rows } = await tx.query<RangeRow>(
      `INSERT INTO port_ranges (project, port_range, created_at) VALUES ($1, int4range($2, $3, '[]'), $4) ON CONFLICT DO NOTHING RETURNING ${RANGE_COLUMNS}`,
      [project, range.start, range.end, this.deps.clock.now()],
    );
    if (!rows[0]) return `the range ${formatRange(range)} is taken; give it a range with \`set_port_range\``;
    await this.deps.audit.record({ actor, action: 'port.range_assign', target: project, outcome: 'ok', detail: { range: formatRange(range) } }, tx);
    return `port range ${formatRange(range)}${await this.usabilityNote(range)}`;
  }

  /** Nothing when every port of the range may be handed out; else how many may, and why the others never are. */
  async usabilityNote(range: PortRange): Promise<string> {
    const { usable, size, excluded } = (await this.deps.exclusions()).usability(range);
    return excluded === null ? '' : `: ${usable} of ${size} ports usable (${excluded}: never handed out)`;
  }

  /** A range none of whose ports may ever be handed out would fail every allocation: refused up front. */
  private async refuseUnusable(range: PortRange, field: 'range' | 'size', otherwise: string): Promise<void> {
    const exclusions = await this.deps.exclusions();
    const { usable, excluded } = exclusions.usability(range);
    if (usable > 0) return;
    const { ephemeral } = exclusions;
    throw invalidInput(
      `range ${formatRange(range)} has no port that may be handed out (${excluded}); choose ports below ${ephemeral.start} or above ${ephemeral.end} that are not on the deny list, ${otherwise}`,
      { field, range: formatRange(range), usable },
    );
  }

  async get(project: string, q: Queryable = this.deps.db): Promise<ProjectRange> {
    const { rows } = await q.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE project = $1`, [project]);
    if (!rows[0]) throw noRange(project);
    return toRange(rows[0]);
  }

  async all(): Promise<ProjectRange[]> {
    const { rows } = await this.deps.db.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges ORDER BY project`);
    return rows.map(toRange);
  }

  /** The lowest block on the default grid that overlaps no range and not the OS ephemeral range. */
  private async nextFreeBlock(q: Queryable): Promise<PortRange | undefined> {
    const { defaultBlockStart, blockSize } = this.deps.policy;
    const { ephemeral } = await this.deps.exclusions();
    const { rows } = await q.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges`);
    const taken = rows.map((r) => toRange(r).range);
    for (let start = defaultBlockStart; start + blockSize - 1 <= MAX_PORT; start += blockSize) {
      const block = { start, end: start + blockSize - 1 };
      if (overlapSize(block, ephemeral) === 0 && taken.every((r) => overlapSize(block, r) === 0)) return block;
    }
    return undefined;
  }

  /**
   * Sets a project's range: `range` moves it to exactly first-last, `size` grows (or
   * shrinks) it from the same first port. The database refuses overlaps and orphaned allocations.
   */
  async set(actor: string, input: { project: string; size?: number; range?: PortRange }): Promise<ProjectRange> {
    if ((input.size === undefined) === (input.range === undefined)) throw invalidInput('give exactly one of size (new number of ports from the same first port) or range (first-last)', { fields: ['size', 'range'] });
    let target: PortRange | undefined;
    try {
      return await this.deps.db.transaction(async (tx) => {
        await tx.query(`SELECT pg_advisory_xact_lock(${RANGES_LOCK})`);
        // Not FOR UPDATE: allocation inserts hold a key-share lock on this row while the range
        // trigger waits for them, and FOR UPDATE would make that a deadlock.
        const { rows: found } = await tx.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE project = $1 FOR NO KEY UPDATE`, [input.project]);
        const current = found[0] && toRange(found[0]);
        if (!current && !input.range) throw noRange(input.project);
        target = input.range ?? { start: current!.range.start, end: current!.range.start + input.size! - 1 };
        if (target.end > MAX_PORT) throw invalidInput(`size ${input.size} from ${target.start} would end past port ${MAX_PORT}`, { field: 'size' });
        await this.refuseUnusable(target, input.range ? 'range' : 'size', MOVING);
        const { rows } = await tx.query<RangeRow>(
          current
            ? `UPDATE port_ranges SET port_range = int4range($2, $3, '[]') WHERE project = $1 RETURNING ${RANGE_COLUMNS}`
            : `INSERT INTO port_ranges (project, port_range, created_at) VALUES ($1, int4range($2, $3, '[]'), $4) RETURNING ${RANGE_COLUMNS}`,
          current ? [input.project, target.start, target.end] : [input.project, target.start, target.end, this.deps.clock.now()],
        );
        await this.deps.audit.record({ actor, action: 'port.range_set', target: input.project, outcome: 'ok', detail: { from: current ? formatRange(current.range) : null, to: formatRange(target) } }, tx);
        return toRange(rows[0]!);
      });
    } catch (err) {
      if (violates(err, FOREIGN_KEY_VIOLATION)) throw notFound(`no project ${input.project}; \`add_project\` creates it`);
      if (target && violates(err, EXCLUSION_VIOLATION)) throw (await this.overlapError(input.project, target, MOVING)) ?? err;
      if (target && violates(err, CHECK_VIOLATION, 'port_ranges_keep_allocations')) throw await this.orphanError(input.project, target);
      throw err;
    }
  }

  /** A project's range compared with the one asked for when adding it again. */
  async differs(project: string, q: Queryable, wanted: PortRange | undefined): Promise<string | undefined> {
    if (!wanted) return undefined;
    const { rows } = await q.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE project = $1`, [project]);
    const current = rows[0] && toRange(rows[0]);
    if (current && formatRange(current.range) === formatRange(wanted)) return undefined;
    return `its port range is ${current ? formatRange(current.range) : 'not set'}, not ${formatRange(wanted)}; \`set_port_range\` changes it`;
  }

  private async overlapError(project: string, range: PortRange, otherwise: string, q: Queryable = this.deps.db) {
    const { rows } = await q.query<RangeRow>(
      `SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE port_range && int4range($1, $2, '[]') AND project <> $3 ORDER BY port_range`,
      [range.start, range.end, project],
    );
    if (rows.length === 0) return undefined;
    const owners = rows.map((r) => `${r.project} (${r.start}-${r.end})`).join(', ');
    return conflict(`range ${formatRange(range)} for ${project} overlaps ${owners}; project ranges never overlap, so choose a free range (\`get_port_summary\` shows them), ${otherwise}`, {
      range: formatRange(range),
      overlaps: rows.map((r) => r.project),
    });
  }

  private async orphanError(project: string, range: PortRange) {
    const { rows } = await this.deps.db.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE project = $1 AND NOT int4range($2, $3, '[]') @> port ORDER BY port LIMIT 5`,
      [project, range.start, range.end],
    );
    const outside = rows.map((r) => `${r.service}:${r.port}`).join(', ');
    return conflict(`range ${formatRange(range)} would leave allocated ports of ${project} outside it (${outside}); release them first or choose a range that keeps them`, { range: formatRange(range) });
  }

  // What a project owns here, for the projects domain (see ProjectData).

  /** FOR UPDATE conflicts with the key-share lock every allocation insert takes on its range, so none slips in before the removal. */
  async lock(project: string, tx: Tx): Promise<void> {
    await tx.query('SELECT 1 FROM port_ranges WHERE project = $1 FOR UPDATE', [project]);
  }

  async owned(project: string, q: Queryable): Promise<OwnedItems> {
    const { rows } = await q.query<{ service: string; port: number; total: number }>(
      'SELECT service, port, count(*) OVER ()::int AS total FROM port_allocations WHERE project = $1 ORDER BY port LIMIT 5',
      [project],
    );
    return { what: 'ports', count: rows[0]?.total ?? 0, sample: rows.map((r) => `${r.service}:${r.port}`) };
  }

  async release(project: string, tx: Tx, actor: string): Promise<number> {
    const { rowCount } = await tx.query('DELETE FROM port_allocations WHERE project = $1', [project]);
    await tx.query('DELETE FROM port_ranges WHERE project = $1', [project]);
    if (rowCount > 0) await this.deps.audit.record({ actor, action: 'port.release_all', target: project, outcome: 'ok', detail: { released: rowCount } }, tx);
    return rowCount;
  }
}
