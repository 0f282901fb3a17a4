// Resizes under way, in the database: a daemon killed between a resize's stop and its start
// leaves a VM stopped that nothing would start again, and no trace of why (the audit row of a
// resize is written when it ends). The row says what was under way; the next start recovers.
import type { Db } from '../core/db.js';
import { ownerStillRuns, processOwner } from '../core/process-info.js';
import type { InstanceRef } from './instance.js';

export interface InFlightResize {
  ref: InstanceRef;
  account: string;
  from: string;
  to: string;
  wasRunning: boolean;
  startedAt: Date;
}

interface Row {
  project_id: string;
  zone: string;
  instance: string;
  account: string;
  from_type: string;
  to_type: string;
  was_running: boolean;
  started_at: Date;
  owner: string;
}

export class ResizesInFlight {
  private readonly owner = processOwner();

  constructor(private readonly db: Db) {}

  async begin(resize: InFlightResize): Promise<void> {
    const { ref } = resize;
    await this.db.query(
      `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
       ON CONFLICT (project_id, zone, instance) DO UPDATE SET account = $4, from_type = $5, to_type = $6, was_running = $7, started_at = $8, owner = $9`,
      [ref.project, ref.zone, ref.name, resize.account, resize.from, resize.to, resize.wasRunning, resize.startedAt, this.owner],
    );
  }

  /** The resize has ended, well or not: what happened is in its answer and the audit log. */
  async end(ref: InstanceRef): Promise<void> {
    await this.db.query('DELETE FROM gcloud_resizes_in_flight WHERE project_id = $1 AND zone = $2 AND instance = $3 AND owner = $4', [ref.project, ref.zone, ref.name, this.owner]);
  }

  /** Resizes whose daemon is gone (on this host; another host's daemon cannot be looked at and is left to its own next start). */
  async cutOff(): Promise<InFlightResize[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM gcloud_resizes_in_flight ORDER BY started_at');
    return rows
      .filter((r) => r.owner !== this.owner && !ownerStillRuns(r.owner))
      .map((r) => ({ ref: { project: r.project_id, zone: r.zone, name: r.instance }, account: r.account, from: r.from_type, to: r.to_type, wasRunning: r.was_running, startedAt: r.started_at }));
  }

  async forget(ref: InstanceRef): Promise<void> {
    await this.db.query('DELETE FROM gcloud_resizes_in_flight WHERE project_id = $1 AND zone = $2 AND instance = $3', [ref.project, ref.zone, ref.name]);
  }
}
