// Auto-scaling policies and the record of every evaluation (SQL only).
import type { Db, Queryable } from '../core/db.js';
import { DEFAULT_POLICY, type AutoscalePolicy } from './autoscale.js';
import type { InstanceRef } from './instance.js';
import { attachmentKey } from './attachments.js';

export type Mode = 'off' | 'recommend' | 'act';

export interface PolicyRow {
  project_id: string;
  zone: string;
  instance_name: string;
  mode: Mode;
  ladder: string[];
  rules: Partial<AutoscalePolicy>;
  last_change_at: Date | null;
  created_at: Date;
  updated_at: Date;
  updated_by: string;
}

export interface EvaluationRow {
  id: number;
  at: Date;
  project_id: string;
  zone: string;
  instance_name: string;
  mode: string;
  machine_type: string | null;
  action: 'up' | 'down' | 'none';
  target: string | null;
  rule: string;
  reason: string;
  outcome: 'resized' | 'recommended' | 'nothing' | 'failed';
  error: string | null;
  inputs: Record<string, unknown>;
}

/** Where a page of the history ends: the last evaluation's start and id. */
export interface HistoryKey {
  at: Date;
  id: number;
}

export const policyView = (r: PolicyRow) => ({
  project: r.project_id,
  zone: r.zone,
  instanceName: r.instance_name,
  mode: r.mode,
  ladder: r.ladder,
  rules: { ...DEFAULT_POLICY, ...r.rules },
  lastChangeAt: r.last_change_at,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

export const evaluationView = (r: EvaluationRow) => ({
  id: r.id,
  at: r.at,
  project: r.project_id,
  zone: r.zone,
  instanceName: r.instance_name,
  mode: r.mode,
  machineType: r.machine_type,
  action: r.action,
  target: r.target,
  rule: r.rule,
  reason: r.reason,
  outcome: r.outcome,
  error: r.error,
  inputs: r.inputs,
});

export class PolicyStore {
  constructor(private readonly db: Db) {}

  /**
   * A new policy's cooldown counts from the VM's last machine-type change made here before it
   * had one (a manual resize, or the scaler under an earlier policy), as the audit log has it:
   * the load in the window is still the old type's, so scaling again at once would be wrong.
   */
  async set(ref: InstanceRef, policy: { mode: Mode; ladder: string[]; rules: Partial<AutoscalePolicy> }, actor: string, now: Date): Promise<PolicyRow> {
    const { rows } = await this.db.query<PolicyRow>(
      `INSERT INTO gcloud_autoscale_policies (project_id, zone, instance_name, mode, ladder, rules, created_at, updated_at, updated_by, last_change_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7, $8,
         (SELECT max(at) FROM audit_log WHERE target = $9 AND outcome = 'ok' AND action IN ('gcloud.resize_vm', 'gcloud.autoscale')
            AND detail->>'from' IS DISTINCT FROM detail->>'to'))
       ON CONFLICT (project_id, zone, instance_name) DO UPDATE SET mode = $4, ladder = $5, rules = $6, updated_at = $7, updated_by = $8
       RETURNING *`,
      [ref.project, ref.zone, ref.name, policy.mode, policy.ladder, JSON.stringify(policy.rules), now, actor, attachmentKey(ref)],
    );
    return rows[0]!;
  }

  async get(ref: InstanceRef, q: Queryable = this.db): Promise<PolicyRow | undefined> {
    const { rows } = await q.query<PolicyRow>('SELECT * FROM gcloud_autoscale_policies WHERE project_id = $1 AND zone = $2 AND instance_name = $3', [ref.project, ref.zone, ref.name]);
    return rows[0];
  }

  /** Whether a policy or an evaluation is stored for this Google project id. */
  async knowsProject(projectId: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'SELECT 1 FROM gcloud_autoscale_policies WHERE project_id = $1 UNION ALL SELECT 1 FROM gcloud_autoscale_evaluations WHERE project_id = $1 LIMIT 1',
      [projectId],
    );
    return rows.length > 0;
  }

  async list(filter: { projects?: string[]; instanceName?: string; activeOnly?: boolean }): Promise<PolicyRow[]> {
    const { rows } = await this.db.query<PolicyRow>(
      `SELECT * FROM gcloud_autoscale_policies
       WHERE ($1::text[] IS NULL OR project_id = ANY($1)) AND ($2::text IS NULL OR instance_name = $2) AND (NOT $3 OR mode <> 'off')
       ORDER BY project_id, zone, instance_name`,
      [filter.projects ?? null, filter.instanceName ?? null, filter.activeOnly ?? false],
    );
    return rows;
  }

  /** A machine-type change of the VM (by the scaler or by hand): the cooldown counts from here. */
  async changed(ref: InstanceRef, at: Date): Promise<void> {
    await this.db.query('UPDATE gcloud_autoscale_policies SET last_change_at = $4 WHERE project_id = $1 AND zone = $2 AND instance_name = $3', [ref.project, ref.zone, ref.name, at]);
  }

  /** The policy forgotten, if there was one. */
  async forget(ref: InstanceRef): Promise<PolicyRow | undefined> {
    const { rows } = await this.db.query<PolicyRow>('DELETE FROM gcloud_autoscale_policies WHERE project_id = $1 AND zone = $2 AND instance_name = $3 RETURNING *', [ref.project, ref.zone, ref.name]);
    return rows[0];
  }

  async record(e: Omit<EvaluationRow, 'id'>): Promise<EvaluationRow> {
    const { rows } = await this.db.query<EvaluationRow>(
      `INSERT INTO gcloud_autoscale_evaluations (at, project_id, zone, instance_name, mode, machine_type, action, target, rule, reason, outcome, error, inputs)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING *`,
      [e.at, e.project_id, e.zone, e.instance_name, e.mode, e.machine_type, e.action, e.target, e.rule, e.reason, e.outcome, e.error, JSON.stringify(e.inputs)],
    );
    return rows[0]!;
  }

  /**
   * Evaluations newest first by when each began (`at`): a run that resized writes its row when the
   * resize has ended, after rows of runs that began later. `before` is the last row of the page
   * before (its time and id; the id orders evaluations that began at the same moment).
   */
  async history(filter: { projects?: string[]; instanceName?: string }, before: HistoryKey | undefined, limit: number): Promise<EvaluationRow[]> {
    const { rows } = await this.db.query<EvaluationRow>(
      `SELECT * FROM gcloud_autoscale_evaluations
       WHERE ($1::text[] IS NULL OR project_id = ANY($1)) AND ($2::text IS NULL OR instance_name = $2)
         AND ($3::timestamptz IS NULL OR (at, id) < ($3, $4::bigint))
       ORDER BY at DESC, id DESC LIMIT $5`,
      [filter.projects ?? null, filter.instanceName ?? null, before?.at ?? null, before?.id ?? null, limit],
    );
    return rows;
  }
}
