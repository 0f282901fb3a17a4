import { randomUUID } from 'node:crypto';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import type { ProjectData } from '../core/project-data.js';
import { conflict, forbidden, notFound } from '../core/errors.js';
import { assertOwnProject, mayUse, type Principal } from '../core/principal.js';
import type { ProjectLookup } from '../projects/index.js';
import { FALLBACK_MS, FALLBACK_RULE, MIN_SAMPLES, TASK_COLUMNS, toTask, type Complexity, type Estimate, type Task, type TaskRow, type TaskStats, type TaskStatus } from './model.js';

export interface TaskServiceDeps {
  db: Db;
  clock: Clock;
  projects: ProjectLookup;
}

export interface StartTaskInput {
  /** The caller's own id (idempotent start); a new one is made when absent. */
  id?: string;
  type: string;
  project: string;
  description?: string;
  complexity?: Complexity;
}

interface StatsRow {
  type: string;
  project: string;
  finished: number | string;
  succeeded: number | string;
  failed: number | string;
  cancelled: number | string;
  interrupted: number | string;
  running: number | string;
  mean: number | null;
  p50: number | null;
  p90: number | null;
}

/** How far an estimate looks for similar tasks, most similar first. */
const LEVELS: Array<{ basis: string; project: boolean; complexity: boolean }> = [
  { basis: 'type, project and complexity', project: true, complexity: true },
  { basis: 'type and project', project: true, complexity: false },
  { basis: 'type and complexity', project: false, complexity: true },
  { basis: 'type', project: false, complexity: false },
];

const STATS_GROUPS = 200;
const round = (n: number | null) => (n === null ? null : Math.round(Number(n)));

/** How the supervisor's own principals are named (adminPrincipal('system:piv')): no token's actor looks like it (token:<name>(<id>)). */
const SYSTEM_ACTOR = 'system:';

/**
 * Task timing (the earlier implementation's TaskTimer): tasks are started and then completed
 * or failed; finished tasks give statistics per type and project and estimates for new tasks.
 * A project token sees and records its own project's tasks only.
 */
export class TaskService {
  constructor(private readonly deps: TaskServiceDeps) {}

  async start(principal: Principal, input: StartTaskInput): Promise<{ task: Task; created: boolean }> {
    this.authorize(principal, input.project);
    const id = input.id ?? randomUUID();
    const { rows } = await this.deps.db.transaction(async (tx) => {
      await this.deps.projects.hold(input.project, tx);
      return tx.query<TaskRow>(
        `INSERT INTO tasks (id, type, project, description, complexity, started_at, started_by) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO NOTHING RETURNING ${TASK_COLUMNS}`,
        [id, input.type, input.project, input.description ?? '', input.complexity ?? 'medium', this.deps.clock.now(), principal.actor],
      );
    });
    if (rows[0]) return { task: toTask(rows[0]), created: true };
    const existing = await this.find(id);
    // A retry of the same start returns the task; the same id with other details is another task.
    const differs = existing && (existing.type !== input.type || existing.project !== input.project || (input.description !== undefined && input.description !== existing.description) || (input.complexity !== undefined && input.complexity !== existing.complexity));
    if (!existing || differs) {
      // Another project's task is described to an admin only: ids are one namespace, its details are not.
      const seen = existing && mayUse(principal, existing.project);
      throw conflict(`a task ${id} already exists${seen ? ` (${existing.type} in ${existing.project}: "${existing.description}", ${existing.complexity})` : ''}; use another id, or omit it to get a new one`, { id });
    }
    this.authorize(principal, existing.project);
    return { task: existing, created: false };
  }

  complete(principal: Principal, id: string): Promise<Task> {
    return this.finish(principal, id, 'succeeded', null);
  }

  fail(principal: Principal, id: string, error: string | undefined): Promise<Task> {
    return this.finish(principal, id, 'failed', error ?? null);
  }

  /** Ends a task that was stopped on purpose: it counts neither as a success nor as a failure. */
  cancel(principal: Principal, id: string, reason: string): Promise<Task> {
    return this.finish(principal, id, 'cancelled', reason);
  }

  private async finish(principal: Principal, id: string, status: Exclude<TaskStatus, 'running'>, error: string | null): Promise<Task> {
    const task = await this.visible(principal, id);
    if (!task) throw notFound(`no task ${id}; start_task returns the id to use`, { id });
    await this.assertMayEnd(principal, id);
    const now = this.deps.clock.now();
    const { rows } = await this.deps.db.query<TaskRow>(
      `UPDATE tasks SET status = $2, finished_at = $3, error = $4,
         duration_ms = GREATEST(0, (EXTRACT(EPOCH FROM ($3::timestamptz - started_at)) * 1000)::bigint)
       WHERE id = $1 AND status = 'running' RETURNING ${TASK_COLUMNS}`,
      [id, status, now, error],
    );
    if (!rows[0]) throw conflict(`task ${id} has already ${task.status}; a task is finished once`, { id, status: task.status });
    return toTask(rows[0]);
  }

  /**
   * A task the supervisor started itself (a PIV loop's run and phases) is ended by the same
   * actor only: ended by hand, its duration and outcome would be the caller's word, not the work's.
   */
  private async assertMayEnd(principal: Principal, id: string): Promise<void> {
    const { rows } = await this.deps.db.query<{ started_by: string }>('SELECT started_by FROM tasks WHERE id = $1', [id]);
    const owner = rows[0]?.started_by ?? '';
    if (!owner.startsWith(SYSTEM_ACTOR) || owner === principal.actor) return;
    throw forbidden(`task ${id} was started by the supervisor itself (${owner}) and ends with the work it times, not by a call; to stop that work, stop it (a PIV loop: cancel_piv)`, { id, startedBy: owner });
  }

  /** Ends a task whose work the daemon's stop cut off, to go on later: neither a success, a failure nor a cancel. */
  interrupt(principal: Principal, id: string, reason: string): Promise<Task> {
    return this.finish(principal, id, 'interrupted', reason);
  }

  /** Marks interrupted every task still running whose id starts with `prefix` (a loop's phases cut off by a crash); returns how many. */
  async interruptRunning(prefix: string, error: string): Promise<number> {
    const { rowCount } = await this.deps.db.query(
      `UPDATE tasks SET status = 'interrupted', error = $2, finished_at = started_at, duration_ms = NULL WHERE status = 'running' AND starts_with(id, $1)`,
      [prefix, error],
    );
    return rowCount;
  }

  async get(principal: Principal, id: string): Promise<Task> {
    const task = await this.visible(principal, id);
    if (!task) throw notFound(`no task ${id}`, { id });
    return task;
  }

  /** The task, if the principal may see it: another project's is as absent to a project token as one that never was. */
  private async visible(principal: Principal, id: string): Promise<Task | undefined> {
    const task = await this.find(id);
    return task && mayUse(principal, task.project) ? task : undefined;
  }

  /** Count, success rate, mean, p50 and p90 per (type, project); durations of succeeded tasks, percentiles interpolated linearly. */
  async stats(principal: Principal, filter: { type?: string; project?: string }): Promise<TaskStats[]> {
    const project = this.scope(principal, filter.project);
    if (filter.project !== undefined) await this.deps.projects.get(filter.project);
    const { rows } = await this.deps.db.query<StatsRow>(
      `SELECT type, project,
         count(*) FILTER (WHERE status IN ('succeeded', 'failed')) AS finished,
         count(*) FILTER (WHERE status = 'succeeded') AS succeeded,
         count(*) FILTER (WHERE status = 'failed') AS failed,
         count(*) FILTER (WHERE status = 'cancelled') AS cancelled,
         count(*) FILTER (WHERE status = 'interrupted') AS interrupted,
         count(*) FILTER (WHERE status = 'running') AS running,
         avg(duration_ms) FILTER (WHERE status = 'succeeded')::float8 AS mean,
         percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'succeeded') AS p50,
         percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) FILTER (WHERE status = 'succeeded') AS p90
       FROM tasks WHERE ($1::text IS NULL OR type = $1) AND ($2::text IS NULL OR project = $2)
       GROUP BY type, project ORDER BY type, project LIMIT ${STATS_GROUPS}`,
      [filter.type ?? null, project ?? null],
    );
    return rows.map((r) => {
      const count = Number(r.finished);
      const succeeded = Number(r.succeeded);
      return {
        type: r.type,
        project: r.project,
        count,
        succeeded,
        failed: Number(r.failed),
        cancelled: Number(r.cancelled),
        interrupted: Number(r.interrupted),
        running: Number(r.running),
        successRate: count === 0 ? null : succeeded / count,
        meanMs: round(r.mean),
        p50Ms: round(r.p50),
        p90Ms: round(r.p90),
      };
    });
  }

  /**
   * p50 and p90 of the most similar succeeded tasks that number at least five: same type,
   * project and complexity, then relaxing complexity, then project. Fewer everywhere: the
   * answer says `insufficient_data` and gives the stated fallback rule's figures.
   */
  async estimate(principal: Principal, input: { type: string; project?: string; complexity?: Complexity }): Promise<Estimate> {
    if (input.project !== undefined) {
      this.authorize(principal, input.project);
      // A misspelt project would quietly get the figures of the wider bases.
      await this.deps.projects.get(input.project);
    }
    const complexity = input.complexity ?? 'medium';
    const project = input.project ?? (principal.role === 'project' ? principal.project : undefined);
    const base = { type: input.type, project: project ?? null, complexity };
    let most = 0;
    for (const level of LEVELS) {
      if (level.project && project === undefined) continue;
      // A project token's estimates come from its own project's tasks only.
      const scoped = level.project || principal.role === 'project' ? project : undefined;
      const { rows } = await this.deps.db.query<{ n: number | string; p50: number | null; p90: number | null }>(
        `SELECT count(*) AS n,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
           percentile_cont(0.9) WITHIN GROUP (ORDER BY duration_ms) AS p90
         FROM tasks WHERE status = 'succeeded' AND type = $1 AND ($2::text IS NULL OR project = $2) AND ($3::text IS NULL OR complexity = $3)`,
        [input.type, scoped ?? null, level.complexity ? complexity : null],
      );
      const n = Number(rows[0]?.n ?? 0);
      most = Math.max(most, n);
      if (n >= MIN_SAMPLES) return { ...base, status: 'ok', sampleSize: n, basis: level.basis, p50Ms: round(rows[0]!.p50)!, p90Ms: round(rows[0]!.p90)! };
    }
    const fallback = FALLBACK_MS[complexity];
    return { ...base, status: 'insufficient_data', sampleSize: most, basis: 'fallback rule', p50Ms: fallback.p50, p90Ms: fallback.p90, rule: FALLBACK_RULE };
  }

  private async find(id: string): Promise<Task | undefined> {
    const { rows } = await this.deps.db.query<TaskRow>(`SELECT ${TASK_COLUMNS} FROM tasks WHERE id = $1`, [id]);
    return rows[0] && toTask(rows[0]);
  }

  /** Tasks belong to their project: counted before it is removed, deleted with it (a later project of that name starts with none). */
  projectData(): ProjectData {
    return {
      owned: async (project, q) => {
        const { rows } = await q.query<{ type: string; n: number | string }>('SELECT type, count(*) OVER () AS n FROM tasks WHERE project = $1 ORDER BY started_at DESC LIMIT 5', [project]);
        return { what: 'tasks', count: Number(rows[0]?.n ?? 0), sample: rows.map((r) => `task ${r.type}`) };
      },
      release: async (project, tx) => (await tx.query('DELETE FROM tasks WHERE project = $1', [project])).rowCount,
    };
  }

  private authorize(principal: Principal, project: string): void {
    assertOwnProject(principal, project, 'the tasks');
  }

  /** The project a listing is limited to: the asked one for admins, always the own one for a project token. */
  private scope(principal: Principal, project: string | undefined): string | undefined {
    if (principal.role === 'admin') return project;
    if (project !== undefined) this.authorize(principal, project);
    return principal.project;
  }
}
