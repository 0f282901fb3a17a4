// VMs attached to supervisor projects ("the VM of consilio"); the rows go with the project.
import type { AuditLog } from '../core/audit.js';
import type { Db } from '../core/db.js';
import type { ProjectData } from '../core/project-data.js';
import type { InstanceRef } from './instance.js';

export interface Attachment extends InstanceRef {
  attachedTo: string;
  attachedAt: Date;
  attachedBy: string;
}

interface Row {
  project_id: string;
  zone: string;
  instance_name: string;
  project: string;
  attached_at: Date;
  attached_by: string;
}

const toAttachment = (r: Row): Attachment => ({ project: r.project_id, zone: r.zone, name: r.instance_name, attachedTo: r.project, attachedAt: r.attached_at, attachedBy: r.attached_by });
const key = (ref: InstanceRef) => `${ref.project}/${ref.zone}/${ref.name}`;

export class Attachments {
  constructor(private readonly db: Db) {}

  async attach(ref: InstanceRef, project: string, actor: string, at: Date): Promise<void> {
    await this.db.query(
      `INSERT INTO gcloud_vm_attachments (project_id, zone, instance_name, project, attached_at, attached_by) VALUES ($1, $2, $3, $4, $5, $6)
       ON CONFLICT (project_id, zone, instance_name) DO UPDATE SET project = $4, attached_at = $5, attached_by = $6`,
      [ref.project, ref.zone, ref.name, project, at, actor],
    );
  }

  async detach(ref: InstanceRef): Promise<boolean> {
    const r = await this.db.query('DELETE FROM gcloud_vm_attachments WHERE project_id = $1 AND zone = $2 AND instance_name = $3', [ref.project, ref.zone, ref.name]);
    return r.rowCount > 0;
  }

  /** Supervisor project of each attached VM of these GCP projects, keyed project/zone/name. */
  async lookup(projectIds: string[]): Promise<Map<string, string>> {
    const { rows } = await this.db.query<Row>('SELECT * FROM gcloud_vm_attachments WHERE project_id = ANY($1)', [projectIds]);
    return new Map(rows.map((r) => [key({ project: r.project_id, zone: r.zone, name: r.instance_name }), r.project]));
  }

  /** The VMs a supervisor project uses (deploys look here). */
  async ofProject(project: string): Promise<Attachment[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM gcloud_vm_attachments WHERE project = $1 ORDER BY project_id, zone, instance_name', [project]);
    return rows.map(toAttachment);
  }

  projectData(audit: AuditLog): ProjectData {
    return {
      owned: async (project, q) => {
        const { rows } = await q.query<{ item: string; total: number }>(
          `SELECT 'vm ' || project_id || '/' || zone || '/' || instance_name AS item, count(*) OVER ()::int AS total
           FROM gcloud_vm_attachments WHERE project = $1 ORDER BY item LIMIT 5`,
          [project],
        );
        return { what: 'attached VMs', count: rows[0]?.total ?? 0, sample: rows.map((r) => r.item) };
      },
      release: async (project, tx, actor) => {
        const r = await tx.query('DELETE FROM gcloud_vm_attachments WHERE project = $1', [project]);
        if (r.rowCount > 0) await audit.record({ actor, action: 'gcloud.release_project', target: project, outcome: 'ok', detail: { detached: r.rowCount } }, tx);
        return r.rowCount;
      },
    };
  }
}

export const attachmentKey = key;
