import type { Queryable } from '../core/db.js';
import { conflict, invalidInput, notFound, type SupervisorError } from '../core/errors.js';
import type { AllocateRequest } from './allocations.js';
import { ALLOCATION_COLUMNS, LOCAL_HOST, RANGE_COLUMNS, toAllocation, toRange, type AllocationRow, type RangeRow } from './model.js';
import type { Exclusions } from './policy.js';
import { formatRange, inRange, MAX_PORT, rangeSize } from './range.js';

const EXCLUDED_BECAUSE = {
  deny_list: 'is on the deny list (ports of infrastructure such as databases)',
  ephemeral: 'is in the OS ephemeral range (local ports of outgoing connections)',
} as const;

/**
 * Why port_allocate returned nothing, as the error a person can act on; undefined when
 * nothing explains it any more (a concurrent release made room: the caller retries).
 * Runs only on the failure path, so the hot path stays one statement.
 */
export async function diagnoseRefusal(q: Queryable, req: AllocateRequest, exclusions: Exclusions): Promise<SupervisorError | undefined> {
  const { rows: ranges } = await q.query<RangeRow>(`SELECT ${RANGE_COLUMNS} FROM port_ranges WHERE project = $1`, [req.project]);
  if (!ranges[0]) return notFound(`project ${req.project} has no port range: \`add_project\` creates a project with one (an admin can run \`supervisor project add ${req.project}\`), \`set_port_range\` gives an existing one a range`);
  const project = toRange(ranges[0]);
  const range = formatRange(project.range);

  if (req.hostname) {
    const { rows } = await q.query<AllocationRow>(`SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE hostname = $1`, [req.hostname]);
    const owner = rows[0] && toAllocation(rows[0]);
    if (owner && (owner.project !== req.project || owner.service !== req.service || owner.host !== req.host)) {
      return conflict(`hostname ${req.hostname} already routes to ${owner.project}/${owner.service} (port ${owner.port}); a hostname has one route`, { hostname: req.hostname });
    }
  }

  const preferred = req.preferredPort;
  if (preferred !== undefined) {
    if (!inRange(project.range, preferred)) return invalidInput(`preferredPort ${preferred} is outside project ${req.project}'s range ${range}`, { field: 'preferredPort' });
    const excluded = exclusions.reason(preferred);
    if (excluded) return invalidInput(`preferredPort ${preferred} ${EXCLUDED_BECAUSE[excluded]} and is never handed out`, { field: 'preferredPort' });
    const { rows } = await q.query<AllocationRow>(`SELECT ${ALLOCATION_COLUMNS} FROM port_allocations WHERE host = $1 AND port = $2`, [req.host, preferred]);
    const owner = rows[0] && toAllocation(rows[0]);
    if (owner) return conflict(`port ${preferred} on host ${req.host} is allocated to ${owner.project}/${owner.service}; omit preferredPort to get a free one`, { port: preferred, owner: `${owner.project}/${owner.service}` });
    if (req.host === LOCAL_HOST && req.busy?.has(preferred)) {
      const [skip] = await req.busy.skipped([preferred]);
      // Given a command, the listener does not run it (busyFor let a match through): say so, not "pass its command".
      const routedOnly = skip!.processes.length === 0 && req.busy.claimsOn(preferred).length > 0;
      const advice = routedOnly
        ? 'or free it: remove_tunnel_route a route added by hand, sync_tunnel for a released allocation\'s rule, or ask with the hostname it routes'
        : `${
            req.command
              ? `command "${req.command}" is not whole words of that process's command line (its script, e.g. server.js, or program and arguments)`
              : 'if that process is this service, pass its command (command) to reserve the port it listens on'
          }, or adopt it with import_ports`;
      return conflict(
        `preferredPort ${preferred} is in use: ${skip!.reason}. Omit preferredPort to get a free one; ${advice}`,
        { port: preferred, protocol: skip!.protocol, pids: skip!.processes.map((p) => p.pid) },
      );
    }
    return undefined;
  }

  const { rows: counted } = await q.query<{ used: number }>('SELECT count(DISTINCT port)::int AS used FROM port_allocations WHERE project = $1 AND host = $2', [req.project, req.host]);
  const used = counted[0]!.used;
  const capacity = exclusions.capacity(project.range);
  // Listening or routed to without an allocation: not used in the registry, but never handed out while they are.
  const busy = req.host === LOCAL_HOST && req.busy ? req.busy.within(project.range).filter((p) => exclusions.reason(p) === null) : [];
  const { rows: allocatedBusy } = busy.length === 0 ? { rows: [] } : await q.query<{ n: number }>('SELECT count(*)::int AS n FROM port_allocations WHERE host = $1 AND port = ANY($2::int[])', [req.host, busy]);
  const listening = busy.length - (allocatedBusy[0]?.n ?? 0);
  if (used + listening < capacity) return undefined;
  if (listening > 0) {
    const shown = busy.slice(0, 10).join(', ');
    return conflict(
      `project ${req.project} has no free port on host ${req.host}: of range ${range}'s ${capacity} usable ports, ${used} ${used === 1 ? 'is' : 'are'} allocated and ${listening} ${listening === 1 ? 'is' : 'are'} in use without an allocation, listened on or routed to by the tunnel (${shown}${busy.length > 10 ? ', …' : ''}); ` +
        `audit_ports shows who listens there (import_ports adopts them), or ${await growAdvice(q, req.project, project.range)}`,
      { project: req.project, range, used, listening, capacity },
    );
  }
  const utilization = capacity === 0 ? 100 : Math.round((used / capacity) * 1000) / 10;
  return conflict(
    `project ${req.project} has no free port on host ${req.host}: range ${range} is ${utilization}% used (${used} of ${capacity} usable ports); ` +
      `release a port it no longer needs, or ${await growAdvice(q, req.project, project.range)}`,
    { project: req.project, range, used, capacity, utilization },
  );
}

/**
 * How a full range can grow: a range grows from its first port (set_port_range --size), so never
 * past the next project's range; said plainly when that range starts right after it.
 */
async function growAdvice(q: Queryable, project: string, range: { start: number; end: number }): Promise<string> {
  const { rows } = await q.query<{ project: string; start: number }>(
    'SELECT project, lower(port_range) AS start FROM port_ranges WHERE lower(port_range) > $1 ORDER BY lower(port_range) LIMIT 1',
    [range.end],
  );
  const next = rows[0];
  const size = rangeSize(range);
  const grown = Math.min(size + Math.max(100, size), (next?.start ?? MAX_PORT + 1) - range.start);
  if (grown > size) return `have an admin grow the range: \`supervisor port range ${project} --size ${grown}\` (set_port_range)`;
  return `note that the range cannot grow: project ${next!.project}'s range starts right after it, at ${next!.start}`;
}
