import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db, Queryable } from '../core/db.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { CHECK_VIOLATION, EXCLUSION_VIOLATION, violates } from './db-errors.js';
import { ALLOCATION_COLUMNS, META_PROJECT, PROJECT_COLUMNS, SHARED_PROJECT, toProject, type AllocationRow, type Project, type ProjectRow } from './model.js';
import type { Exclusions, PortPolicy } from './policy.js';
import { formatRange, MAX_PORT, overlapSize, type PortRange } from './range.js';

/**
 * Serialises range changes (add, resize). Two concurrent inserts that violate the
 * exclusion constraint against each other deadlock (each waits for the other's check);
 * taken in turn, the second one gets a clean exclusion violation. It also makes two
 * `project_add` calls without a range pick different blocks. Range changes are rare.
 */
const RANGES_LOCK = 7_420_201;

export interface ProjectRegistryDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  policy: PortPolicy;
  exclusions: () => Promise<Exclusions>;
}

export interface AddProjectInput {
  name: string;
  range?: PortRange;
  description?: string | null;
}

const noProject = (name: string) => notFound(`no project ${name}; \`project_list\` shows the projects, \`project_add\` creates one`);
const BUILTIN = new Set([META_PROJECT, SHARED_PROJECT]);

/** Projects and their port ranges; the database keeps ranges disjoint. */
export class ProjectRegistry {
  private builtins: Promise<void> | undefined;

  constructor(private readonly deps: ProjectRegistryDeps) {}

  /**
   * Creates `meta` (the first default block) and `shared` on first use, before any
   * other project can take their place. A range already taken by an explicit project
   * is left alone: ON CONFLICT DO NOTHING covers the exclusion constraint too.
   */
  ready(): Promise<void> {
    this.builtins ??= this.createBuiltins().catch((err: unknown) => {
      this.builtins = undefined;
      throw err;
    });
    return this.builtins;
  }

  private async createBuiltins(): Promise<void> {
    const { defaultBlockStart, blockSize, sharedRange } = this.deps.policy;
    const builtins: Array<[string, PortRange, string]> = [
      [META_PROJECT, { start: defaultBlockStart, end: defaultBlockStart + blockSize - 1 }, 'The supervisor and its own services'],
      [SHARED_PROJECT, sharedRange, 'Services used by several projects'],
    ];
    await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [RANGES_LOCK]);
      for (const [name, range, description] of builtins) {
        await tx.query(
          `INSERT INTO projects (name, port_range, description, created_at) VALUES ($1, int4range($2, $3, '[]'), $4, $5) ON CONFLICT DO NOTHING`,
          [name, range.start, range.end, description, this.deps.clock.now()],
        );
      }
    });
  }

  async get(name: string): Promise<Project> {
    await this.ready();
    const project = await this.find(name, this.deps.db);
    if (!project) throw noProject(name);
    return project;
  }

  /** No ready() here: inside a PGlite transaction a query on the outer handle would wait forever. */
  private async find(name: string, q: Queryable, lock: '' | 'FOR UPDATE' | 'FOR NO KEY UPDATE' = ''): Promise<Project | undefined> {
    const { rows } = await q.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects WHERE name = $1 ${lock}`, [name]);
    return rows[0] && toProject(rows[0]);
  }

  async all(): Promise<Project[]> {
    await this.ready();
    const { rows } = await this.deps.db.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects ORDER BY name`);
    return rows.map(toProject);
  }

  /**
   * Adds a project (idempotent for the same name and range); without a range it gets the
   * next free default block. The exclusion constraint is what refuses an overlap.
   */
  async add(actor: string, input: AddProjectInput): Promise<Project & { created: boolean }> {
    await this.ready();
    try {
      return await this.deps.db.transaction((tx) => this.addIn(tx, actor, input));
    } catch (err) {
      if (violates(err, EXCLUSION_VIOLATION) && input.range) throw await this.overlapError(input.name, input.range);
      throw err;
    }
  }

  private async addIn(tx: Queryable, actor: string, input: AddProjectInput): Promise<Project & { created: boolean }> {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [RANGES_LOCK]);
    const existing = await this.find(input.name, tx);
    if (existing) {
      if (input.range && formatRange(input.range) !== formatRange(existing.range)) {
        throw conflict(`project ${input.name} already exists with range ${formatRange(existing.range)}; \`project_resize\` changes its range`, { range: formatRange(existing.range) });
      }
      return { ...existing, created: false };
    }
    const range = input.range ?? (await this.nextFreeBlock(tx));
    const { rows } = await tx.query<ProjectRow>(
      `INSERT INTO projects (name, port_range, description, created_at) VALUES ($1, int4range($2, $3, '[]'), $4, $5) RETURNING ${PROJECT_COLUMNS}`,
      [input.name, range.start, range.end, input.description ?? null, this.deps.clock.now()],
    );
    await this.deps.audit.record({ actor, action: 'port.project_add', target: input.name, outcome: 'ok', detail: { range: formatRange(range) } }, tx);
    return { ...toProject(rows[0]!), created: true };
  }

  /** The lowest block on the default grid that overlaps no project and not the OS ephemeral range. */
  private async nextFreeBlock(q: Queryable): Promise<PortRange> {
    const { defaultBlockStart, blockSize } = this.deps.policy;
    const { ephemeral } = await this.deps.exclusions();
    const { rows } = await q.query<ProjectRow>(`SELECT ${PROJECT_COLUMNS} FROM projects`);
    const taken = rows.map((r) => toProject(r).range);
    for (let start = defaultBlockStart; start + blockSize - 1 <= MAX_PORT; start += blockSize) {
      const block = { start, end: start + blockSize - 1 };
      if (overlapSize(block, ephemeral) === 0 && taken.every((r) => overlapSize(block, r) === 0)) return block;
    }
    throw conflict(`no free block of ${blockSize} ports is left between ${defaultBlockStart} and ${MAX_PORT}; give an explicit range`);
  }

  private async overlapError(name: string, range: PortRange) {
    const { rows } = await this.deps.db.query<ProjectRow>(
      `SELECT ${PROJECT_COLUMNS} FROM projects WHERE port_range && int4range($1, $2, '[]') AND name <> $3 ORDER BY port_range`,
      [range.start, range.end, name],
    );
    const owners = rows.map((r) => `${r.name} (${r.start}-${r.end})`).join(', ');
    return conflict(`range ${formatRange(range)} for ${name} overlaps ${owners || 'another project'}; project ranges never overlap, so choose a free range (\`project_list\` shows them) or omit the range to get the next free block`, {
      range: formatRange(range),
      overlaps: rows.map((r) => r.name),
    });
  }

  /** Removes a project; refused while it has allocations unless `force`, which releases them in the same transaction. */
  async remove(actor: string, input: { name: string; force: boolean }): Promise<{ project: string; removed: boolean; released: number }> {
    if (BUILTIN.has(input.name)) throw invalidInput(`project ${input.name} is built in and cannot be removed`);
    await this.ready();
    return this.deps.db.transaction(async (tx) => {
      // FOR UPDATE conflicts with the key-share lock every allocation insert takes on its project,
      // so no allocation can slip in between the count and the delete.
      if (!(await this.find(input.name, tx, 'FOR UPDATE'))) throw noProject(input.name);
      const { rows } = await tx.query<Pick<AllocationRow, 'service' | 'host' | 'port'>>(
        'SELECT service, host, port FROM port_allocations WHERE project = $1 ORDER BY port',
        [input.name],
      );
      if (rows.length > 0 && !input.force) {
        const sample = rows.slice(0, 5).map((r) => `${r.service}:${r.port}`).join(', ');
        throw conflict(`project ${input.name} still has ${rows.length} allocated port(s) (${sample}${rows.length > 5 ? ', …' : ''}); release them, or remove with force (\`supervisor project remove ${input.name} --force\`) to release them all`, { allocations: rows.length });
      }
      await tx.query('DELETE FROM port_allocations WHERE project = $1', [input.name]);
      await tx.query('DELETE FROM projects WHERE name = $1', [input.name]);
      await this.deps.audit.record({ actor, action: 'port.project_remove', target: input.name, outcome: 'ok', detail: { released: rows.length } }, tx);
      return { project: input.name, removed: true, released: rows.length };
    });
  }

  /** Moves a project's range to `range` (or grows it to `size` ports from the same start); the database refuses overlaps and orphans. */
  async resize(actor: string, input: { name: string; size?: number; range?: PortRange }): Promise<Project> {
    if ((input.size === undefined) === (input.range === undefined)) throw invalidInput('give exactly one of size (new number of ports from the same first port) or range (first-last)', { fields: ['size', 'range'] });
    await this.ready();
    let target: PortRange | undefined;
    try {
      return await this.deps.db.transaction(async (tx) => {
        await tx.query('SELECT pg_advisory_xact_lock($1)', [RANGES_LOCK]);
        // Not FOR UPDATE: allocation inserts hold a key-share lock on this row while the range
        // trigger waits for them, and FOR UPDATE would make that a deadlock.
        const current = await this.find(input.name, tx, 'FOR NO KEY UPDATE');
        if (!current) throw noProject(input.name);
        target = input.range ?? { start: current.range.start, end: current.range.start + input.size! - 1 };
        if (target.end > MAX_PORT) throw invalidInput(`size ${input.size} from ${current.range.start} would end past port ${MAX_PORT}`, { field: 'size' });
        const { rows } = await tx.query<ProjectRow>(
          `UPDATE projects SET port_range = int4range($2, $3, '[]') WHERE name = $1 RETURNING ${PROJECT_COLUMNS}`,
          [input.name, target.start, target.end],
        );
        await this.deps.audit.record({ actor, action: 'port.project_resize', target: input.name, outcome: 'ok', detail: { from: formatRange(current.range), to: formatRange(target) } }, tx);
        return toProject(rows[0]!);
      });
    } catch (err) {
      if (target && violates(err, EXCLUSION_VIOLATION)) throw await this.overlapError(input.name, target);
      if (target && violates(err, CHECK_VIOLATION, 'projects_range_keeps_allocations')) throw await this.orphanError(input.name, target);
      throw err;
    }
  }

  private async orphanError(name: string, range: PortRange) {
    const { rows } = await this.deps.db.query<AllocationRow>(
      `SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE project = $1 AND NOT int4range($2, $3, '[]') @> port ORDER BY port LIMIT 5`,
      [name, range.start, range.end],
    );
    const outside = rows.map((r) => `${r.service}:${r.port}`).join(', ');
    return conflict(`range ${formatRange(range)} would leave allocated ports of ${name} outside it (${outside}); release them first or choose a range that keeps them`, { range: formatRange(range) });
  }
}
