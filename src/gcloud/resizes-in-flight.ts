// Resizes under way, in the database: a daemon killed between a resize's stop and its start
// leaves a VM stopped that nothing would start again, and no trace of why (the audit row of a
// resize is written when it ends). The row says what was under way; the next start recovers.
import type { Db } from '../core/db.js';
import { conflict, SupervisorError } from '../core/errors.js';
import type { Presence } from '../core/presence.js';
import type { InstanceRef } from './instance.js';

export interface InFlightResize {
  ref: InstanceRef;
  account: string;
  from: string;
  to: string;
  wasRunning: boolean;
  startedAt: Date;
}

/** A resize whose process is gone, and that process (as recorded). */
export type CutOffResize = InFlightResize & { owner: string };

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
  constructor(
    private readonly db: Db,
    private readonly presence: Presence,
  ) {}

  private get owner(): string {
    return this.presence.owner;
  }

  /**
   * Claims the VM for a resize, or refuses (resizeUnderWay) while another one is under way: two at
   * once (two auto-scaler runs, a run and a person) would stop and retype it under each other. The
   * row of a resize whose process is gone (cut off, on any host) is taken over; the database settles who wins.
   */
  async begin(resize: InFlightResize): Promise<void> {
    const { ref } = resize;
    await this.presence.announce();
    const values = [ref.project, ref.zone, ref.name, resize.account, resize.from, resize.to, resize.wasRunning, resize.startedAt, this.owner];
    for (let attempt = 0; attempt < 3; attempt++) {
      const inserted = await this.db.query(
        `INSERT INTO gcloud_resizes_in_flight (project_id, zone, instance, account, from_type, to_type, was_running, started_at, owner)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (project_id, zone, instance) DO NOTHING RETURNING 1`,
        values,
      );
      if (inserted.rows.length > 0) return;
      const held = await this.row(ref);
      if (!held) continue;
      if (!(await this.presence.gone(held.owner))) throw new ResizeUnderWay(toResize(held));
      const taken = await this.db.query(
        `UPDATE gcloud_resizes_in_flight SET account = $4, from_type = $5, to_type = $6, was_running = $7, started_at = $8, owner = $9
         WHERE project_id = $1 AND zone = $2 AND instance = $3 AND owner = $10 RETURNING 1`,
        [...values, held.owner],
      );
      if (taken.rows.length > 0) return;
    }
    throw conflict(`${ref.name} is being claimed for a resize by others over and over; try again in a moment`, { instance: ref.name });
  }

  /** The resize of this VM under way now, if there is one (one cut off is not). */
  async underWay(ref: InstanceRef): Promise<InFlightResize | undefined> {
    const held = await this.row(ref);
    return held && (await this.presence.alive(held.owner)) ? toResize(held) : undefined;
  }

  private async row(ref: InstanceRef): Promise<Row | undefined> {
    const { rows } = await this.db.query<Row>('SELECT * FROM gcloud_resizes_in_flight WHERE project_id = $1 AND zone = $2 AND instance = $3', [ref.project, ref.zone, ref.name]);
    return rows[0];
  }

  /** The resize has ended, well or not: what happened is in its answer and the audit log. */
  async end(ref: InstanceRef): Promise<void> {
    await this.db.query('DELETE FROM gcloud_resizes_in_flight WHERE project_id = $1 AND zone = $2 AND instance = $3 AND owner = $4', [ref.project, ref.zone, ref.name, this.owner]);
  }

  /** Resizes whose process is gone, on this host or another. */
  async cutOff(): Promise<CutOffResize[]> {
    const { rows } = await this.db.query<Row>('SELECT * FROM gcloud_resizes_in_flight ORDER BY started_at');
    const gone = await this.presence.goneOf(rows.filter((r) => r.owner !== this.owner).map((r) => r.owner));
    return rows.filter((r) => gone.has(r.owner)).map((r) => ({ ...toResize(r), owner: r.owner }));
  }

  /**
   * Makes a resize cut off this process's to look at, unless another daemon (starting at the same
   * time) already has: one of them puts the VM back, not each.
   */
  async takeOver(cut: CutOffResize): Promise<boolean> {
    await this.presence.announce();
    return this.moveOwner(cut.ref, cut.owner, this.owner);
  }

  /** A resize taken over and not settled goes back to its gone process: the VM is not held, and the next start looks again. */
  async handBack(cut: CutOffResize): Promise<void> {
    await this.moveOwner(cut.ref, this.owner, cut.owner);
  }

  /** Whether the VM is still this process's to resize (not taken over by another daemon meanwhile). */
  async holds(ref: InstanceRef): Promise<boolean> {
    return (await this.row(ref))?.owner === this.owner;
  }

  /** The VM's row passes from `from` to `to`, if `from` still has it. */
  private async moveOwner(ref: InstanceRef, from: string, to: string): Promise<boolean> {
    const { rows } = await this.db.query(
      'UPDATE gcloud_resizes_in_flight SET owner = $5 WHERE project_id = $1 AND zone = $2 AND instance = $3 AND owner = $4 RETURNING 1',
      [ref.project, ref.zone, ref.name, from, to],
    );
    return rows.length > 0;
  }

  async forget(ref: InstanceRef): Promise<void> {
    await this.db.query('DELETE FROM gcloud_resizes_in_flight WHERE project_id = $1 AND zone = $2 AND instance = $3', [ref.project, ref.zone, ref.name]);
  }
}

const toResize = (r: Row): InFlightResize => ({ ref: { project: r.project_id, zone: r.zone, name: r.instance }, account: r.account, from: r.from_type, to: r.to_type, wasRunning: r.was_running, startedAt: r.started_at });

/** What a VM being resized is refused, and what an auto-scaler run records for it, in one sentence. */
export const beingResized = (r: InFlightResize) => `${r.ref.name} is being resized from ${r.from} to ${r.to} (begun ${r.startedAt.toISOString()})`;

/** A resize refused because another one of the VM is under way: a conflict that carries it. */
export class ResizeUnderWay extends SupervisorError {
  constructor(readonly resize: InFlightResize) {
    super('conflict', `${beingResized(resize)}; try again once that has ended (gcloud_get_vm shows its status)`, {
      instance: resize.ref.name,
      resizing: { from: resize.from, to: resize.to, startedAt: resize.startedAt.toISOString() },
    });
  }
}
