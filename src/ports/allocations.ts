import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { conflict, invalidInput, notFound } from '../core/errors.js';
import { GroupCommit, type GroupCommitOptions } from '../core/group-commit.js';
import { byCodeUnits } from '../core/order.js';
import { didYouMean } from '../core/suggest.js';
import { CHECK_VIOLATION, FOREIGN_KEY_VIOLATION, UNIQUE_VIOLATION, violates } from './db-errors.js';
import { diagnoseRefusal } from './diagnose.js';
import { ALLOCATION_COLUMNS, LOCAL_HOST, toAllocation, type Allocation, type AllocationRow, type Protocol } from './model.js';
import type { Exclusions } from './policy.js';
import { BusyPorts, portsMultirange, type SkippedPort } from './busy.js';

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
  /**
   * What listens on this host now (host local only): a new allocation skips those ports
   * for its protocol. Unset, nothing is skipped (import_ports adopts a listener's own port).
   */
  busy?: BusyPorts;
}

/** An allocation, whether this call made it, and the ports it passed over because they were listening. */
export type Allocated = Allocation & { created: boolean; skipped: SkippedPort[] };
type AllocatedRow = AllocationRow & { created: boolean };

/**
 * Group commit of concurrent allocations, tuned with `npm run bench -- ports` (32 callers,
 * PostgreSQL and PGlite): one batch in flight makes the biggest batches but a lone call may
 * wait behind a whole one; four spread the callers over small batches that contend for the
 * same ports. Two was best or close to it in every workload.
 */
export const DEFAULT_BATCHING: GroupCommitOptions = { maxInFlight: 2, maxBatch: 64 };

export interface AllocationStoreDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  exclusions: () => Promise<Exclusions>;
  /** Concurrent calls without a preferred port share a statement (see allocate); unset, every call has its own. */
  batching?: GroupCommitOptions;
}

/**
 * The one statement that gets or allocates (see port_allocate in migrations/0004). The
 * exclusions are part of its text rather than a parameter: a named statement is parsed
 * once per connection, so the multirange is parsed once instead of on every call.
 */
function allocateSql(exclusions: Exclusions): string {
  return `SELECT ${ALLOCATION_COLUMNS}, created FROM port_allocate($1, $2, $3, $4, $5, $6, $7, $8, ${multirange(exclusions)} + $11::int4multirange, $9, $10)`;
}

/** The same for a batch (port_allocate_many, migrations/0005): request k answers with a row whose i is k, or with none. */
function allocateManySql(exclusions: Exclusions): string {
  return `SELECT i, ${ALLOCATION_COLUMNS}, created FROM port_allocate_many($1, $2, $3, $4, $5, $6, $7, ${multirange(exclusions)} + $10::int4multirange, $8, $9)`;
}

function multirange(exclusions: Exclusions): string {
  // Built by Exclusions from integers only; checked anyway, since it goes into SQL text.
  if (!/^\{[\d,[)]*\}$/.test(exclusions.multirange)) throw new Error(`not an int4multirange literal: ${exclusions.multirange}`);
  return `'${exclusions.multirange}'::int4multirange`;
}

interface Queued {
  actor: string;
  req: AllocateRequest;
}

/** What allocate needs for one set of exclusions: its two statements and, with batching on, the group commit. */
interface Prepared {
  exclusions: Exclusions;
  text: string;
  many: string;
  commit: GroupCommit<Queued, AllocatedRow | undefined> | undefined;
}

/** A batch statement that failed as a whole: it says nothing about any one of its requests. */
class BatchFailed extends Error {}

/** The busy ports of a batch's requests (each read them when it was made; usually one read serves them all). */
function busyUnion(queued: Queued[]): string {
  const ports = new Set<number>();
  for (const q of new Set(queued.map((x) => x.req.busy))) for (const p of q?.ports() ?? []) ports.add(p);
  return portsMultirange(ports);
}

/** A refusal the diagnosis cannot explain was a race with releases and allocations; one more try settles it. */
const ATTEMPTS = 2;

/** The tunnel routes HTTP and TCP: a UDP port given a hostname would be accepted and never routed. */
const udpHostname = (who: string) =>
  invalidInput(`hostname: ${who} is a udp port, and a Cloudflare tunnel routes http and tcp only; allocate it without a hostname`, { field: 'hostname' });

/** Durable reservations of one port for one service; the database settles every race. */
export class AllocationStore {
  /** The statements and the group commit for the exclusions last seen (a PortService reads them once). */
  private prepared: Prepared | undefined;

  constructor(private readonly deps: AllocationStoreDeps) {}

  /** Statements sent through the batches so far (a lone call counts as one) and the calls they carried. */
  batchStats(): { batches: number; requests: number } {
    const stats = this.prepared?.commit?.stats ?? { batches: 0, items: 0 };
    return { batches: stats.batches, requests: stats.items };
  }

  /**
   * Get-or-allocate: the same project, service and host always get the same port back.
   *
   * With batching on, the first try goes through a group commit: a call made while others
   * run waits for their statement to return and then goes with the calls queued meanwhile
   * in one statement (port_allocate_many); a lone call is the single statement, at once.
   * Refused in its batch, a call is diagnosed like a refused single call; if its batch
   * failed as a whole (a project removed under it, a deadlock, another request the table
   * refused), the call tries again alone, so one bad request never fails the others.
   */
  async allocate(actor: string, req: AllocateRequest): Promise<Allocated> {
    if (req.hostname && req.protocol === 'udp') throw udpHostname(`${req.project}/${req.service}`);
    const exclusions = await this.deps.exclusions();
    for (let attempt = 1; ; attempt++) {
      const row = attempt === 1 ? await this.firstTry(actor, req, exclusions) : await this.tryAllocate(actor, req, exclusions);
      if (row) return row.created ? { ...toAllocation(row), created: true, skipped: await this.skippedFor(req, row.port) } : { ...(await this.reconcileExisting(actor, req, row)), skipped: [] };
      const refusal = await diagnoseRefusal(this.deps.db, req, exclusions);
      if (refusal || attempt >= ATTEMPTS) throw refusal ?? conflict(`could not allocate a port for ${req.project}/${req.service} while other calls changed the project; retry`);
    }
  }

  /**
   * allocate's first try: through the group commit when batching is on. A preferred port
   * always goes alone: it waits for its port's lock, and a wait inside a shared transaction
   * would hold every other request of the batch with it (and could close a deadlock).
   */
  private async firstTry(actor: string, req: AllocateRequest, exclusions: Exclusions): Promise<AllocatedRow | undefined> {
    const { commit } = this.prepare(exclusions);
    // Batches carry one set of busy ports: this host's tcp listeners (get_port's case).
    const batchable = req.preferredPort === undefined && req.host === LOCAL_HOST && (req.protocol ?? 'tcp') === 'tcp';
    if (!commit || !batchable) return this.tryAllocate(actor, req, exclusions);
    try {
      return await commit.submit({ actor, req });
    } catch (err) {
      if (!(err instanceof BatchFailed)) throw err;
      return this.tryAllocate(actor, req, exclusions);
    }
  }

  /** Several calls in one statement: each one's row, or undefined when nothing was allocated for it. */
  private async allocateMany(queued: Queued[], exclusions: Exclusions): Promise<Array<AllocatedRow | undefined>> {
    // Requests of one project and host next to each other (port_allocate_many searches their
    // range once), and every batch in the same order: two batches that wait for each other's
    // uncommitted rows of the same services then wait one way only, never in a cycle.
    const order = queued.map((q, n) => ({ ...q.req, actor: q.actor, n }));
    order.sort((a, b) => byCodeUnits(a.project, b.project) || byCodeUnits(a.host, b.host) || byCodeUnits(a.service, b.service) || a.n - b.n);
    const column = <T>(get: (r: (typeof order)[number]) => T) => order.map(get);
    let rows: Array<AllocatedRow & { i: number }>;
    try {
      ({ rows } = await this.deps.db.query<AllocatedRow & { i: number }>(this.prepare(exclusions).many, [
        column((r) => r.project), column((r) => r.service), column((r) => r.host), column((r) => r.protocol ?? 'tcp'),
        column((r) => r.hostname ?? null), column((r) => r.description ?? null), column((r) => r.command ?? null),
        this.deps.clock.now(), column((r) => r.actor), busyUnion(queued),
      ]));
    } catch (err) {
      // A project removed under the batch, a request the table refuses, a deadlock between
      // batches waiting for each other's hostnames: each request then tries alone (firstTry).
      throw new BatchFailed('the batch statement failed', { cause: err });
    }
    const answers: Array<AllocatedRow | undefined> = queued.map(() => undefined);
    for (const { i, ...row } of rows) answers[order[i - 1]!.n] = row;
    return answers;
  }

  private prepare(exclusions: Exclusions): Prepared {
    if (this.prepared?.exclusions !== exclusions) {
      const { batching } = this.deps;
      this.prepared = {
        exclusions,
        text: allocateSql(exclusions),
        many: allocateManySql(exclusions),
        commit: batching && new GroupCommit({ ...batching, one: (q) => this.tryAllocate(q.actor, q.req, exclusions), many: (queued) => this.allocateMany(queued, exclusions) }),
      };
    }
    return this.prepared;
  }

  /** One call of port_allocate; undefined when it allocated nothing. */
  private async tryAllocate(actor: string, req: AllocateRequest, exclusions: Exclusions): Promise<AllocatedRow | undefined> {
    try {
      const { rows } = await this.deps.db.query<AllocatedRow>(this.prepare(exclusions).text, [
        req.project, req.service, req.host, req.protocol ?? 'tcp', req.preferredPort ?? null,
        req.hostname ?? null, req.description ?? null, req.command ?? null, this.deps.clock.now(), actor,
        req.host === LOCAL_HOST ? (req.busy ?? BusyPorts.none).multirange() : '{}',
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
  private async reconcileExisting(actor: string, req: AllocateRequest, row: AllocationRow): Promise<Allocation & { created: false }> {
    const current = toAllocation(row);
    const who = `${current.project}/${current.service}${current.host === LOCAL_HOST ? '' : ` on ${current.host}`}`;
    if (req.preferredPort !== undefined && req.preferredPort !== current.port) {
      throw conflict(`${who} already has port ${current.port}; release_port it first to move it to ${req.preferredPort}`, { port: current.port });
    }
    if (req.protocol !== undefined && req.protocol !== current.protocol) {
      throw conflict(`${who} already has port ${current.port}/${current.protocol}; use another service name for ${req.protocol}`, { port: current.port, protocol: current.protocol });
    }
    const changes = (['hostname', 'description', 'command'] as const).filter((field) => req[field] !== undefined && req[field] !== current[field]);
    if (req.hostname && current.protocol === 'udp') throw udpHostname(who);
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

  /**
   * The ports of the project's range below `port` that a new allocation passed over because
   * they were listening: busy, neither excluded nor allocated on this host.
   */
  private async skippedFor(req: AllocateRequest, port: number): Promise<SkippedPort[]> {
    // A preferred port is taken as asked: nothing below it was passed over.
    if (req.host !== LOCAL_HOST || !req.busy || req.preferredPort !== undefined) return [];
    const below = req.busy.ports().filter((p) => p < port);
    if (below.length === 0) return [];
    const { rows } = await this.deps.db.query<{ port: number }>(
      `SELECT p AS port FROM unnest($1::int[]) AS p JOIN port_ranges r ON r.project = $2 AND r.port_range @> p
        WHERE NOT EXISTS (SELECT 1 FROM port_allocations a WHERE a.host = $3 AND a.port = p) ORDER BY p`,
      [below, req.project, req.host],
    );
    const exclusions = await this.deps.exclusions();
    const passed = rows.map((r) => r.port).filter((p) => exclusions.reason(p) === null);
    return passed.length === 0 ? [] : req.busy.skipped(passed);
  }

  /** Frees a port: the only way a reservation ends. Releasing what is not allocated answers released: false. */
  async release(actor: string, req: { project: string; service: string; host: string }): Promise<{ released: boolean; allocation: Allocation | null; note?: string }> {
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
    const { rows } = await this.deps.db.query('SELECT 1 FROM port_ranges WHERE project = $1', [req.project]);
    if (rows.length === 0) throw notFound(`project ${req.project} has no port range; \`list_projects\` shows the projects`);
    return { released: false, allocation: null, note: await this.nothingToRelease(req) };
  }

  /**
   * Why nothing was released, for a caller who may have misspelt the service or left out its host:
   * a release twice is fine (idempotent), but a typo looks the same and leaves the real port reserved.
   */
  private async nothingToRelease(req: { project: string; service: string; host: string }): Promise<string> {
    const { rows } = await this.deps.db.query<{ service: string; host: string }>('SELECT service, host FROM port_allocations WHERE project = $1 ORDER BY service, host', [req.project]);
    const nothing = `${req.project} has no port for ${req.service} on ${req.host} (released already, or never allocated)`;
    if (rows.length === 0) return `${req.project} has no port on any host: nothing to release for ${req.service} (released already, or never allocated)`;
    const elsewhere = rows.filter((r) => r.service === req.service).map((r) => r.host);
    if (elsewhere.length > 0) return `${nothing}; it has one on ${elsewhere.join(', ')}: give that host`;
    const here = rows.filter((r) => r.host === req.host).map((r) => r.service);
    const hint = didYouMean(req.service, here);
    if (hint) return `${nothing}${hint}`;
    const shown = here.length > 8 ? `${here.slice(0, 8).join(', ')} and ${here.length - 8} more` : here.join(', ');
    return here.length > 0 ? `${nothing}; its services on ${req.host}: ${shown}` : `${nothing}; its ports are on other hosts`;
  }
}
