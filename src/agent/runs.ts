// The piv_runs rows as the agent service sees them: created before the loop begins (so the
// database refuses a second active loop in a project), claimed for running, listed, finished.
import type { Db, Queryable } from '../core/db.js';
import type { ProjectLookup } from '../projects/index.js';
import { conflict, notFound } from '../core/errors.js';
import { decodeIntCursor, encodeCursor, type Page } from '../core/page.js';
import { mayUse, type Principal } from '../core/principal.js';
import type { PivState } from './model.js';

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'interrupted';
export const ACTIVE: readonly RunStatus[] = ['queued', 'running'];

export interface RunRow {
  id: string;
  seq: number;
  project: string;
  feature: string;
  branch: string;
  status: RunStatus;
  phase: string;
  state: PivState | null;
  owner: string | null;
  agent_group: string | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  /** Set when the loop's project was removed: the loop is history, not a later project's of that name. */
  project_removed_at: Date | null;
}

const COLUMNS = 'id, seq, project, feature, branch, status, phase, state, owner, agent_group, created_by, created_at, updated_at, finished_at, project_removed_at';

const UNIQUE_VIOLATION = '23505';
const isUniqueViolation = (err: unknown) => (err as { code?: unknown } | null)?.code === UNIQUE_VIOLATION;

export class Runs {
  constructor(private readonly db: Db) {}

  /**
   * A new loop, held by `owner` as running while it begins (so no daemon claims it before its
   * state exists); refused while the project has one queued or running.
   */
  async insert(row: { id: string; project: string; feature: string; createdBy: string; owner: string; at: Date }, projects: Pick<ProjectLookup, 'hold'>): Promise<void> {
    try {
      await this.db.transaction(async (tx) => {
        // With the project held: a removal racing the start either sees this loop (and cancels
        // it, or refuses), or has removed the project first, and no agent runs for it.
        await projects.hold(row.project, tx);
        await tx.query(
          `INSERT INTO piv_runs (id, project, feature, status, owner, created_by, created_at, updated_at) VALUES ($1, $2, $3, 'running', $4, $5, $6, $6)`,
          [row.id, row.project, row.feature, row.owner, row.createdBy, row.at],
        );
      });
    } catch (err) {
      if (!isUniqueViolation(err)) throw err;
      const active = await this.active(row.project);
      throw conflict(
        `project ${row.project} already has a PIV loop ${active ? `${active.id} (${active.status}, ${active.phase})` : 'queued or running'}; one loop runs in a repository at a time: wait for it (get_piv_status) or cancel it (cancel_piv)`,
        { project: row.project, running: active?.id },
      );
    }
  }

  async remove(id: string): Promise<void> {
    await this.db.query('DELETE FROM piv_runs WHERE id = $1', [id]);
  }

  /** `visible` says whether the caller may see the loop: another project's is as absent to it as one that never was. */
  async get(id: string, q: Queryable = this.db, visible: (row: RunRow) => boolean = () => true): Promise<RunRow> {
    const { rows } = await q.query<RunRow>(`SELECT ${COLUMNS} FROM piv_runs WHERE id = $1`, [id]);
    const row = rows[0] && normalise(rows[0]);
    if (!row || !visible(row)) throw notFound(`there is no PIV loop ${id}; list_piv_runs lists them`, { id });
    return row;
  }

  async active(project: string): Promise<RunRow | undefined> {
    const { rows } = await this.db.query<RunRow>(`SELECT ${COLUMNS} FROM piv_runs WHERE project = $1 AND status IN ('queued', 'running')`, [project]);
    return rows[0] && normalise(rows[0]);
  }

  /** A queued or running loop of another project in this repository (two projects may share a checkout). */
  async activeIn(repoDir: string, besides: string): Promise<{ id: string; project: string } | undefined> {
    const { rows } = await this.db.query<{ id: string; project: string }>(
      `SELECT id, project FROM piv_runs WHERE status IN ('queued', 'running') AND state->>'repoDir' = $1 AND project <> $2 LIMIT 1`,
      [repoDir, besides],
    );
    return rows[0];
  }

  /**
   * Makes a loop whose daemon is gone this daemon's, as it was found (status and owner unchanged
   * since): false when another daemon starting at the same time took it first.
   */
  async takeOver(row: Pick<RunRow, 'id' | 'status' | 'owner'>, owner: string): Promise<boolean> {
    const { rows } = await this.db.query('UPDATE piv_runs SET owner = $4 WHERE id = $1 AND status = $2 AND owner IS NOT DISTINCT FROM $3 RETURNING 1', [row.id, row.status, row.owner, owner]);
    return rows.length > 0;
  }

  /** Takes the oldest queued loop for this daemon; another daemon never takes the same one. */
  async claim(owner: string, at: Date): Promise<string | undefined> {
    const { rows } = await this.db.query<{ id: string }>(
      `UPDATE piv_runs SET status = 'running', owner = $1, updated_at = $2
       WHERE id = (SELECT id FROM piv_runs WHERE status = 'queued' ORDER BY seq LIMIT 1 FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [owner, at],
    );
    return rows[0]?.id;
  }

  /**
   * Puts a loop this daemon's shutdown stopped back in the queue, in `q` (the transaction that
   * also saves the state to resume from): false when it no longer runs as `owner`'s (another
   * daemon took it over, or a project removed with force cancelled it meanwhile). Its agent is
   * stopped by then: the group recorded for it is forgotten.
   */
  async queueAgain(q: Queryable, id: string, owner: string, at: Date): Promise<boolean> {
    const { rowCount } = await q.query(`UPDATE piv_runs SET status = 'queued', agent_group = NULL, updated_at = $3 WHERE id = $1 AND owner = $2 AND status = 'running'`, [id, owner, at]);
    return rowCount > 0;
  }

  /**
   * Sets the loop's status while its row is still as `read` (its status and owner), for an end
   * decided on that reading: false when it moved on (another daemon took it over, which keeps
   * its status running and changes its owner).
   */
  async setStatusIf(id: string, status: RunStatus, at: Date, read: Pick<RunRow, 'status' | 'owner'>): Promise<boolean> {
    const { rowCount } = await this.db.query('UPDATE piv_runs SET status = $2, updated_at = $3 WHERE id = $1 AND status = $4 AND owner IS NOT DISTINCT FROM $5', [id, status, at, read.status, read.owner]);
    return rowCount > 0;
  }

  /** Sets the loop's status if it is one of `from` (any when not given) and, when given, still `owner`'s: false when it was not. */
  async setStatus(id: string, status: RunStatus, at: Date, from?: readonly RunStatus[], owner?: string): Promise<boolean> {
    const { rowCount } = await this.db.query(
      `UPDATE piv_runs SET status = $2, updated_at = $3
       WHERE id = $1 AND ($4::text[] IS NULL OR status = ANY($4)) AND ($5::text IS NULL OR owner = $5)`,
      [id, status, at, from ? [...from] : null, owner ?? null],
    );
    return rowCount > 0;
  }

  async setPhase(id: string, phase: string, at: Date): Promise<void> {
    await this.db.query('UPDATE piv_runs SET phase = $2, updated_at = $3 WHERE id = $1', [id, phase, at]);
  }

  async setAgentGroup(id: string, group: string | null): Promise<void> {
    await this.db.query('UPDATE piv_runs SET agent_group = $2 WHERE id = $1', [id, group]);
  }

  /** Loops left queued or running, oldest first (a starting daemon looks at these). */
  async unfinished(): Promise<RunRow[]> {
    const { rows } = await this.db.query<RunRow>(`SELECT ${COLUMNS} FROM piv_runs WHERE status IN ('queued', 'running') ORDER BY seq`);
    return rows.map(normalise);
  }

  /** Newest first, in any of `statuses` when given; loops of removed projects only `withRemoved`. */
  async list(filter: { project?: string; statuses?: readonly RunStatus[]; withRemoved: boolean; limit: number; cursor?: string }): Promise<Page<RunRow>> {
    const before = filter.cursor !== undefined ? decodeIntCursor(filter.cursor, Number.MAX_SAFE_INTEGER) : null;
    const { rows } = await this.db.query<RunRow>(
      `SELECT ${COLUMNS} FROM piv_runs
       WHERE ($1::text IS NULL OR project = $1) AND ($2::text[] IS NULL OR status = ANY($2)) AND ($3::bigint IS NULL OR seq < $3)
         AND ($5 OR project_removed_at IS NULL)
       ORDER BY seq DESC LIMIT $4`,
      [filter.project ?? null, filter.statuses ? [...filter.statuses] : null, before, filter.limit + 1, filter.withRemoved],
    );
    const items = rows.slice(0, filter.limit).map(normalise);
    return { items, nextCursor: rows.length > filter.limit ? encodeCursor(String(items.at(-1)!.seq)) : null };
  }
}

/** Whether `principal` may see and act on a loop: an admin any; a project token its own project's, not a removed one's. */
export function mayUseRun(principal: Principal, row: RunRow): boolean {
  return mayUse(principal, row.project) && (principal.role === 'admin' || row.project_removed_at === null);
}

function normalise(row: RunRow): RunRow {
  return { ...row, seq: Number(row.seq) };
}
