// The loop's store in the database: the state as one JSON document in piv_runs (whose row the
// agent service creates first, with the project and the caller), artifacts and the progress log
// in their own tables. Saving a finished state finishes the row; a running state leaves the
// row's status (queued, running) to the service.
import type { Clock } from '../core/clock.js';
import type { Queryable } from '../core/db.js';
import type { PivState, ProgressEntry } from './model.js';
import type { PivStore } from './store.js';

const FINISHED = new Set(['succeeded', 'failed', 'cancelled']);

/** A loop's state was not saved: the loop is no longer this daemon's (another took it over, or ended it). */
export class LoopTakenOver extends Error {
  constructor(readonly id: string) {
    super(`PIV loop ${id} is no longer this daemon's to run: another daemon on the database took it over, or it was ended there`);
  }
}

/**
 * A loop run here is saved while it is this daemon's and running, or cancelled (a project removed
 * with force marks its loops so, and the loop then saves its end); not once another daemon claimed
 * it, or resume_piv put it back in the queue for any daemon to take.
 */
const owned = (param: number): string => ` AND owner = $${param} AND status IN ('running', 'cancelled')`;

export class DbPivStore implements PivStore {
  /** `owner`: saves and logs only while the loop is this owner's (see `owned`; the store a daemon runs its loops with). */
  constructor(
    private readonly db: Queryable,
    private readonly clock: Clock,
    private readonly owner?: string,
  ) {}

  async save(state: PivState): Promise<void> {
    if (await this.write(state, this.owner === undefined ? '' : owned(8), this.owner === undefined ? [] : [this.owner])) return;
    if (this.owner !== undefined && (await this.db.query('SELECT 1 FROM piv_runs WHERE id = $1', [state.id])).rows.length > 0) throw new LoopTakenOver(state.id);
    throw new Error(`PIV loop ${state.id} has no row to save its state in`);
  }

  /**
   * Saves `state` only while the loop's row is still as `read` (its status and owner), for an end
   * decided on that reading: false when the loop moved on meanwhile (a daemon claimed it from the
   * queue, a resume queued it), and the end must be decided again.
   */
  async saveIf(state: PivState, read: { status: string; owner: string | null }): Promise<boolean> {
    return this.write(state, ' AND status = $8 AND owner IS NOT DISTINCT FROM $9', [read.status, read.owner]);
  }

  private async write(state: PivState, fence: string, fenceValues: unknown[]): Promise<boolean> {
    const finished = FINISHED.has(state.status);
    const values = [state.id, JSON.stringify(state), state.branch, state.next === 'done' ? (state.failure?.phase ?? 'done') : state.next, this.clock.now(), finished, state.status];
    const { rowCount } = await this.db.query(
      `UPDATE piv_runs SET state = $2, branch = $3, phase = $4, updated_at = $5,
         status = CASE WHEN $6 THEN $7 ELSE status END,
         finished_at = CASE WHEN $6 THEN $5::timestamptz ELSE NULL END,
         agent_group = CASE WHEN $6 THEN NULL ELSE agent_group END
       WHERE id = $1${fence}`,
      [...values, ...fenceValues],
    );
    return rowCount > 0;
  }

  async load(id: string): Promise<PivState | undefined> {
    const { rows } = await this.db.query<{ state: PivState | null }>('SELECT state FROM piv_runs WHERE id = $1', [id]);
    return rows[0]?.state ?? undefined;
  }

  async putArtifact(id: string, name: string, text: string): Promise<void> {
    await this.db.query(
      `INSERT INTO piv_artifacts (run_id, name, text, updated_at) VALUES ($1, $2, $3, $4)
       ON CONFLICT (run_id, name) DO UPDATE SET text = EXCLUDED.text, updated_at = EXCLUDED.updated_at`,
      [id, name, text, this.clock.now()],
    );
  }

  async getArtifact(id: string, name: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ text: string }>('SELECT text FROM piv_artifacts WHERE run_id = $1 AND name = $2', [id, name]);
    return rows[0]?.text;
  }

  async artifactNames(id: string): Promise<string[]> {
    const { rows } = await this.db.query<{ name: string }>('SELECT name FROM piv_artifacts WHERE run_id = $1 ORDER BY updated_at, name', [id]);
    return rows.map((r) => r.name);
  }

  /** Appends to the loop's progress log; a line of a run no longer this owner's is dropped (the loop's log is the other run's now). */
  async log(id: string, entry: ProgressEntry): Promise<void> {
    const values = [id, entry.at, entry.phase, entry.message];
    if (this.owner === undefined) {
      await this.db.query('INSERT INTO piv_log (run_id, at, phase, message) VALUES ($1, $2, $3, $4)', values);
      return;
    }
    await this.db.query(
      `INSERT INTO piv_log (run_id, at, phase, message) SELECT $1::text, $2::timestamptz, $3::text, $4::text WHERE EXISTS (SELECT 1 FROM piv_runs WHERE id = $1${owned(5)})`,
      [...values, this.owner],
    );
  }

  /** The last `count` entries of the progress log, oldest first. */
  async progress(id: string, count: number): Promise<ProgressEntry[]> {
    const { rows } = await this.db.query<{ at: Date; phase: ProgressEntry['phase']; message: string }>(
      'SELECT at, phase, message FROM (SELECT id, at, phase, message FROM piv_log WHERE run_id = $1 ORDER BY id DESC LIMIT $2) last ORDER BY id',
      [id, count],
    );
    return rows.map((r) => ({ at: new Date(r.at).toISOString(), phase: r.phase, message: r.message }));
  }
}
