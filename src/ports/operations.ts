import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ } from '../catalog/operation.js';
import { projectName } from '../core/names.js';
import type { Principal } from '../core/principal.js';
import { pageInput, pageOutput } from '../core/page.js';
import type { Allocated } from './allocations.js';
import type { PortService } from './service.js';
import { formatRange, portRangeInput } from './range.js';
import { allocationOutput, allocationView, auditItemOutput, command, description, host, hostname, newHost, port, protocol, rangeOutput, rangeView, serviceName, socketOutput } from './schemas.js';

const created = z.boolean().describe('True when this call made it; false when it already existed');
const project = projectName.describe('Project name');

/** get_port and allocate_port share the answer: the allocation and whether this call made it. */
const skipped = z
  .array(z.object({
    port: z.number().int(),
    protocol,
    reason: z.string().describe('Why it was passed over, and who listens there'),
    processes: z.array(z.object({ pid: z.number().int(), command: z.string().nullable() })).describe('The processes listening on it; empty when they belong to another user'),
  }))
  .describe("Ports of the range below this one passed over because something listens on them now (never handed out while busy); empty unless this call made the allocation");
const allocated = allocationOutput.extend({ created, skipped });
const allocatedView = (a: Allocated, viewer: Principal) => ({ ...allocationView(a, viewer), created: a.created, skipped: a.skipped });
const allocationKey = { project, service: serviceName, host: host.optional() };
/** get_port and allocate_port may create the allocation: its host must be one the tunnel can route to. */
const newAllocationKey = { ...allocationKey, host: newHost.optional() };

const operation = operationsOf<PortService>('ports');

export const portOperations = [
  operation({
    name: 'get_port',
    title: 'Get port',
    description: "The port of a project's service, reserved on the first call, the same ever after (also while the service is down). Use it instead of picking or hard-coding a port. A new port is never one something listens on now; skipped says which were passed over and why.",
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/port' },
    cli: { command: ['port', 'get'], args: ['project', 'service'] },
    input: z.object(newAllocationKey),
    output: allocated,
    handler: async ({ svc, principal }, input) => allocatedView(await svc.allocate(principal, input), principal),
  }),
  operation({
    name: 'allocate_port',
    title: 'Allocate port',
    description: "get_port with options: preferred port, protocol, the public hostname the tunnel routes to it, description, owner's command. A repeat call returns the same port and applies new options.",
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/ports' },
    cli: { command: ['port', 'allocate'], args: ['project', 'service'] },
    input: z.object({
      ...newAllocationKey,
      protocol: protocol.optional().describe('tcp (default) or udp'),
      preferredPort: port.optional().describe("A free port in the project's range; refused while another process listens on it (unless command matches that process)"),
      hostname: hostname.nullable().optional().describe('Public hostname the tunnel routes here; null removes it'),
      description: description.nullable().optional().describe('null clears'),
      command: command.nullable().optional().describe('null clears'),
    }),
    output: allocated,
    handler: async ({ svc, principal }, input) => allocatedView(await svc.allocate(principal, input), principal),
  }),
  operation({
    name: 'list_ports',
    title: 'List ports',
    description: 'List port allocations; probe=true adds whether each local port is listening now (up/down).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports' },
    cli: { command: ['port', 'list'], args: ['project'], columns: ['project', 'service', 'port', 'protocol', 'hostname', 'status'], columnsUnless: { host: 'local' } },
    input: z.object({
      project: project.optional(),
      service: serviceName.optional(),
      hostname: hostname.optional(),
      host: host.optional(),
      status: z.enum(['up', 'down']).optional().describe('Only up or down ports'),
      probe: z.boolean().default(false).describe('Probe listening sockets'),
      ...pageInput,
    }),
    output: z.object({ items: z.array(allocationOutput.extend({ status: z.enum(['up', 'down', 'unknown']) })), ...pageOutput }),
    handler: async ({ svc, principal }, input) => {
      const page = await svc.list(input);
      return { items: page.items.map((a) => ({ ...allocationView(a, principal), status: a.status })), nextCursor: page.nextCursor };
    },
  }),
  operation({
    name: 'release_port',
    title: 'Release port',
    description: "Free a service's port: the only way a reservation ends.",
    access: 'any',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/port' },
    cli: { command: ['port', 'release'], args: ['project', 'service'] },
    input: z.object(allocationKey),
    output: z.object({ released: z.boolean(), allocation: allocationOutput.nullable().describe('What was released'), note: z.string().optional().describe('When nothing was released: what the project has instead') }),
    handler: async ({ svc, principal }, input) => {
      const result = await svc.release(principal, input);
      return { released: result.released, allocation: result.allocation && allocationView(result.allocation, principal), ...(result.note === undefined ? {} : { note: result.note }) };
    },
  }),
  operation({
    name: 'get_port_summary',
    title: 'Port summary',
    description: 'Per project: range, usable, used and free ports, utilization %.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/summary' },
    cli: { command: ['port', 'summary'], args: ['project'], columns: ['project', 'range', 'used', 'free', 'utilization'], units: { utilization: '%' } },
    input: z.object({ project: project.optional(), ...pageInput }),
    output: z.object({
      items: z.array(z.object({
        project: z.string(),
        range: z.string(),
        size: z.number().int(),
        capacity: z.number().int().describe('Ports that may be handed out'),
        used: z.number().int(),
        free: z.number().int(),
        utilization: z.number().describe('used / capacity, in percent'),
      })),
      ...pageOutput,
    }),
    handler: async ({ svc }, input) => {
      const page = await svc.summary(input);
      return { items: page.items.map((s) => ({ ...s, range: formatRange(s.range) })), nextCursor: page.nextCursor };
    },
  }),
  operation({
    name: 'set_port_range',
    title: 'Set port range',
    description: "Move a project's port range (range) or resize it (size). Use when its range is full. A range with no usable port (all in the OS ephemeral range or denied) is refused.",
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/ports/range' },
    cli: { command: ['port', 'range'], args: ['project'], exactlyOne: ['size', 'range'] },
    input: z.object({
      project,
      size: z.number().int().min(1).max(65535).optional().describe('New number of ports, starting at the current first port'),
      range: portRangeInput.optional(),
    }),
    output: rangeOutput.extend({
      usable: z.number().int().describe('Ports of the range that may be handed out (the OS ephemeral range and the deny list removed)'),
      notes: z.array(z.string()).describe('Which ports of the range are never handed out, and why'),
    }),
    handler: async ({ svc, principal }, input) => {
      const set = await svc.setRange(principal.actor, { project: input.project, size: input.size, range: input.range });
      return { ...rangeView(set), usable: set.usable, notes: set.notes };
    },
  }),
  operation({
    name: 'check_port',
    title: 'Check port',
    description: 'Who owns or uses a port: project range, allocations, exclusion, the daemon, tunnel routes, and what listens now (pid, command).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/check' },
    cli: { command: ['port', 'check'], args: ['port'] },
    input: z.object({ port, host: host.optional(), protocol: protocol.optional().describe('Only this protocol') }),
    output: z.object({
      port: z.number().int(),
      host: z.string(),
      project: rangeOutput.nullable().describe('The project range that holds the port'),
      allocations: z.array(allocationOutput),
      excluded: z.enum(['deny_list', 'ephemeral']).nullable().describe('Why the port is never handed out, if it is not'),
      daemon: z.boolean().describe('True when this supervisor daemon serves on the port (reserved for it as <project>/supervisor, meta/supervisor in meta\'s range)'),
      listening: z.boolean().nullable().describe('null for another host: only this host can be probed'),
      sockets: z.array(socketOutput.extend({ protocol })),
      routedBy: z.array(z.string()).describe('Tunnel routes sending traffic here: allocation skips the port'),
    }),
    handler: async ({ svc, principal }, input) => {
      const result = await svc.check(principal, input);
      return { ...result, project: result.project && rangeView(result.project), allocations: result.allocations.map((a) => allocationView(a, principal)) };
    },
  }),
  operation({
    name: 'audit_ports',
    title: 'Audit ports',
    description: "Compare allocations with this host's listening sockets: ok (its owner listens), down (nothing listening; still reserved), conflict (another process on it, with the reason), unknown (listening in a range without an allocation).",
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/audit' },
    cli: { command: ['port', 'audit'], args: ['project'] },
    input: z.object({ project: project.optional(), limit: z.number().int().min(1).max(1000).default(200).describe('Items per group') }),
    output: z.object({
      project: z.string().nullable(),
      counts: z.object({ ok: z.number().int(), down: z.number().int(), conflict: z.number().int(), unknown: z.number().int() }),
      truncated: z.boolean().describe('True when a group had more items than limit'),
      ok: z.array(auditItemOutput),
      down: z.array(auditItemOutput),
      conflict: z.array(auditItemOutput),
      unknown: z.array(auditItemOutput),
    }),
    handler: ({ svc, principal }, input) => svc.audit(principal, input),
  }),
  operation({
    name: 'import_ports',
    title: 'Import listening ports',
    description: "Adopt audit_ports' unknown listeners as allocations named after their program. Dry run unless apply.",
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/ports/import' },
    cli: { command: ['port', 'import'], args: ['project'] },
    input: z.object({ project: project.optional(), apply: z.boolean().default(false).describe('Write them') }),
    output: z.object({
      applied: z.boolean(),
      adoptions: z.array(z.object({
        project: z.string(),
        service: z.string(),
        port: z.number().int(),
        protocol,
        command: z.string().nullable(),
        pid: z.number().int().nullable(),
        allocated: z.boolean().describe('True when this call wrote the allocation'),
      })),
      skipped: z.array(z.object({ project: z.string(), port: z.number().int(), protocol, reason: z.string() })),
    }),
    handler: ({ svc, principal }, input) => svc.importListeners(principal, input),
  }),
];
