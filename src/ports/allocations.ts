import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { conflict, notFound } from '../core/errors.js';
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, violates } from './db-errors.js';
import { diagnoseRefusal } from './diagnose.js';
import { ALLOCATION_COLUMNS, LOCAL_HOST, toAllocation, type Allocation, type AllocationRow, type Protocol } from './model.js';
import type { Exclusions } from './policy.js';

export interface AllocateRequest {
  project: string;
  service: string;
  host: string;
  /** Unset: tcp for a new allocation, whatever the existing one has otherwise. */
  protocol?: Protocol;
  preferredPort?: number;
  hostname?: string | null;
  description?: string | null;
  command?: string | null;
}

export type Allocated = Allocation & { created: boolean };

export interface AllocationStoreDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  exclusions: () => Promise<Exclusions>;
}

/**
 * The one statement that gets or allocates (see port_allocate in migrations/0004). The
 * exclusions are part of its text rather than a parameter: a named statement is parsed
 * once per connection, so the multirange is parsed once instead of on every call.
 */
function allocateSql(exclusions: Exclusions): string {
  // Built by Exclusions from integers only; checked anyway, since it goes into SQL text.
  if (!/^\{[\d,[)]*\}$/.test(exclusions.multirange)) throw new Error(`not an int4multirange literal: ${exclusions.multirange}`);
  return `SELECT ${ALLOCATION_COLUMNS}, created FROM port_allocate($1, $2, $3, $4, $5, $6, $7, $8, '${exclusions.multirange}'::int4multirange, $9, $10)`;
}
/** A refusal the diagnosis cannot explain was a race with releases and allocations; one more try settles it. */
const ATTEMPTS = 2;

/** Durable reservations of one port for one service; the database settles every race. */
export class AllocationStore {
  /** allocateSql for the exclusions last seen (a PortService reads them once). */
  private sql: { exclusions: Exclusions; text: string } | undefined;

  constructor(private readonly deps: AllocationStoreDeps) {}

  /** Get-or-allocate: the same project, service and host always get the same port back. */
  async allocate(actor: string, req: AllocateRequest): Promise<Allocated> {
    const exclusions = await this.deps.exclusions();
    for (let attempt = 1; ; attempt++) {
      const row = await this.tryAllocate(actor, req, exclusions);
      if (row) return row.created ? { ...toAllocation(row), created: true } : this.reconcileExisting(actor, req, row);
      const refusal = await diagnoseRefusal(this.deps.db, req, exclusions);
      if (refusal || attempt >= ATTEMPTS) throw refusal ?? conflict(`could not allocate a port for ${req.project}/${req.service} while other calls changed the project; retry`);
    }
  }

  /** One call of port_allocate; undefined when it allocated nothing. */
  private async tryAllocate(actor: string, req: AllocateRequest, exclusions: Exclusions): Promise<(AllocationRow & { created: boolean }) | undefined> {
    try {
      if (this.sql?.exclusions !== exclusions) this.sql = { exclusions, text: allocateSql(exclusions) };
      const { rows } = await this.deps.db.query<AllocationRow & { created: boolean }>(this.sql.text, [
        req.project, req.service, req.host, req.protocol ?? 'tcp', req.preferredPort ?? null,
        req.hostname ?? null, req.description ?? null, req.command ?? null, this.deps.clock.now(), actor,
      ]);
      return rows[0];
    } catch (err) {
      // The project was removed, or its range moved, between reading it and inserting: the diagnosis says which.
      if (violates(err, FOREIGN_KEY_VIOLATION) || violates(err, CHECK_VIOLATION, 'port_allocations_in_range')) return undefined;
      throw err;
    }
  }

  /**
   * A repeat call gets the port it already has. Asking for another port or protocol is a
   * conflict (moving a port breaks whoever uses it); new hostname, description or command
   * are applied, so a rerun deploy can add its route.
   */
  private async reconcileExisting(actor: string, req: AllocateRequest, row: AllocationRow): Promise<Allocated> {
    const current = toAllocation(row);
    const who = `${current.project}/${current.service}${current.host === LOCAL_HOST ? '' : ` on ${current.host}`}`;
    if (req.preferredPort !== undefined && req.preferredPort !== current.port) {
      throw conflict(`${who} already has port ${current.port}; release_port it first to move it to ${req.preferredPort}`, { port: current.port });
    }
    if (req.protocol !== undefined && req.protocol !== current.protocol) {
      throw conflict(`${who} already has port ${current.port}/${current.protocol}; use another service name for ${req.protocol}`, { port: current.port, protocol: current.protocol });
    }
    const changes = (['hostname', 'description', 'command'] as const).filter((field) => req[field] !== undefined && req[field] !== current[field]);
    if (changes.length === 0) return { ...current, created: false };
    return { ...(await this.update(actor, req, changes)), created: false };
  }

  private async update(actor: string, req: AllocateRequest, fields: Array<'hostname' | 'description' | 'command'>): Promise<Allocation> {
    try {
      return await this.deps.db.transaction(async (tx) => {
        const { rows } = await tx.query<AllocationRow>(
          `UPDATE port_allocations SET
             hostname = CASE WHEN $4 THEN $5 ELSE hostname END,
             description = CASE WHEN $6 THEN $7 ELSE description END,
             command = CASE WHEN $8 THEN $9 ELSE command END
           WHERE project = $1 AND service = $2 AND host = $3 RETURNING ${ALLOCATION_COLUMNS}`,
          [
            req.project, req.service, req.host,
            fields.includes('hostname'), req.hostname ?? null,
            fields.includes('description'), req.description ?? null,
            fields.includes('command'), req.command ?? null,
          ],
        );
        // Released between the allocate call and this update: say so instead of answering a port nobody holds.
        if (!rows[0]) throw conflict(`${req.project}/${req.service} was released while being updated; call again to allocate it`);
        await this.deps.audit.record({ actor, action: 'port.update', target: `${req.project}/${req.service}`, outcome: 'ok', detail: { host: req.host, fields } }, tx);
        return toAllocation(rows[0]);
      });
    } catch (err) {
      if (violates(err, UNIQUE_VIOLATION, 'port_allocations_hostname')) {
        const refusal = await diagnoseRefusal(this.deps.db, { ...req, preferredPort: undefined }, await this.deps.exclusions());
        throw refusal ?? conflict(`hostname ${req.hostname} is already routed to another port`);
      }
      throw err;
    }
  }

  /** Frees a port: the only way a reservation ends. Releasing what is not allocated answers released: false. */
  async release(actor: string, req: { project: string; service: string; host: string }): Promise<{ released: boolean; allocation: Allocation | null }> {
    const released = await this.deps.db.transaction(async (tx) => {
      const { rows } = await tx.query<AllocationRow>(
        `DELETE FROM port_allocations WHERE project = $1 AND service = $2 AND host = $3 RETURNING ${ALLOCATION_COLUMNS}`,
        [req.project, req.service, req.host],
      );
      if (rows[0]) {
        await this.deps.audit.record({ actor, action: 'port.release', target: `${req.project}/${req.service}`, outcome: 'ok', detail: { host: req.host, port: rows[0].port } }, tx);
      }
      return rows[0];
    });
    if (released) return { released: true, allocation: toAllocation(released) };
    const { rows } = await this.deps.db.query('SELECT 1 FROM projects WHERE name = $1', [req.project]);
    if (rows.length === 0) throw notFound(`no project ${req.project}; \`project_list\` shows the projects`);
    return { released: false, allocation: null };
  }
}
