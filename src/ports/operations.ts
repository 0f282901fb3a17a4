import { z } from 'zod';
import { defineOperation, DESTRUCTIVE, IDEMPOTENT_WRITE, READ } from '../catalog/operation.js';
import { projectName } from '../core/names.js';
import { pageInput, pageOutput } from '../core/page.js';
import type { Allocated } from './allocations.js';
import { formatRange, portRangeInput } from './range.js';
import { allocationOutput, allocationView, auditItemOutput, command, description, host, hostname, port, projectOutput, projectView, protocol, serviceName, socketOutput } from './schemas.js';

const ports = 'ports';
const created = z.boolean().describe('True when this call made it; false when it already existed');
const project = projectName.describe('Project name');

/** get_port and allocate_port share the answer: the allocation and whether this call made it. */
const allocated = allocationOutput.extend({ created });
const allocatedView = (a: Allocated) => ({ ...allocationView(a), created: a.created });
const allocationKey = { project, service: serviceName, host: host.optional() };

export const portOperations = [
  defineOperation({
    name: 'project_add',
    title: 'Add project',
    description: 'Give a project its own port range. Without range it gets the next free block of 100 ports from 3000 (skipping the OS ephemeral range); with range (e.g. 4000-4999) exactly that, refused if it overlaps another project. Repeating the call with the same name answers the existing project. Admin only.',
    domain: ports,
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/projects' },
    cli: { command: ['project', 'add'], args: ['project'] },
    input: z.object({ project, range: portRangeInput.optional(), description: description.optional() }),
    output: projectOutput.extend({ created }),
    handler: async ({ services, principal }, input) => {
      const added = await services.ports.addProject(principal.actor, { name: input.project, range: input.range, description: input.description });
      return { ...projectView(added), created: added.created };
    },
  }),
  defineOperation({
    name: 'project_list',
    title: 'List projects',
    description: 'List projects and their port ranges, by name (paginated). port_summary adds how full each range is.',
    domain: ports,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/projects' },
    cli: { command: ['project', 'list'] },
    input: z.object({ ...pageInput }),
    output: z.object({ items: z.array(projectOutput), ...pageOutput }),
    handler: async ({ services }, input) => {
      const page = await services.ports.listProjects(input);
      return { items: page.items.map(projectView), nextCursor: page.nextCursor };
    },
  }),
  defineOperation({
    name: 'project_remove',
    title: 'Remove project',
    description: 'Remove a project and free its range. Refused while it has allocated ports, unless force is true, which releases them all in the same transaction. meta and shared cannot be removed. Admin only.',
    domain: ports,
    access: 'admin',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/projects' },
    cli: { command: ['project', 'remove'], args: ['project'] },
    input: z.object({ project, force: z.boolean().default(false).describe('Also release every allocated port of the project') }),
    output: z.object({ project: z.string(), removed: z.boolean(), released: z.number().int().describe('Allocations released with it') }),
    handler: ({ services, principal }, input) => services.ports.removeProject(principal.actor, { name: input.project, force: input.force }),
  }),
  defineOperation({
    name: 'project_resize',
    title: 'Resize project range',
    description: "Change a project's port range: size grows (or shrinks) it from the same first port; range moves it to exactly first-last. Refused when the new range overlaps another project or would leave an allocated port outside. Use when allocate_port reports the range exhausted. Admin only.",
    domain: ports,
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/projects/resize' },
    cli: { command: ['project', 'resize'], args: ['project'] },
    input: z.object({
      project,
      size: z.number().int().min(1).max(65535).optional().describe('New number of ports, starting at the current first port'),
      range: portRangeInput.optional(),
    }),
    output: projectOutput,
    handler: async ({ services, principal }, input) =>
      projectView(await services.ports.resizeProject(principal.actor, { name: input.project, size: input.size, range: input.range })),
  }),
  defineOperation({
    name: 'get_port',
    title: 'Get port',
    description: "The port of a project's service: the one it already has, or a newly reserved one from the project's range on the first call. Always use this instead of picking or hard-coding a port: the answer never changes, and the port stays reserved even while the service is down. allocate_port takes more options.",
    domain: ports,
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/port' },
    cli: { command: ['port', 'get'], args: ['project', 'service'] },
    input: z.object(allocationKey),
    output: allocated,
    handler: async ({ services, principal }, input) => allocatedView(await services.ports.allocate(principal, input)),
  }),
  defineOperation({
    name: 'allocate_port',
    title: 'Allocate port',
    description: "Reserve a port for a project's service, with options: a preferred port inside the range, protocol, the public hostname the tunnel should route to it, a description, and the owner's command (so audit_ports can tell the owner from an intruder). Idempotent: a repeat call returns the same port (and applies a new hostname, description or command); asking for a different port or protocol for an allocated service is a conflict.",
    domain: ports,
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/ports' },
    cli: { command: ['port', 'allocate'], args: ['project', 'service'] },
    input: z.object({
      ...allocationKey,
      protocol: protocol.optional().describe('tcp (default) or udp'),
      preferredPort: port.optional().describe("A specific free port inside the project's range"),
      hostname: hostname.optional(),
      description: description.optional(),
      command: command.optional(),
    }),
    output: allocated,
    handler: async ({ services, principal }, input) => allocatedView(await services.ports.allocate(principal, input)),
  }),
  defineOperation({
    name: 'list_ports',
    title: 'List ports',
    description: 'List port allocations by project, service and host (paginated), filtered by project, service, hostname or host. probe=true (or a status filter) adds whether each local port is listening right now (up/down); other hosts show unknown.',
    domain: ports,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports' },
    cli: { command: ['port', 'list'], args: ['project'] },
    input: z.object({
      project: project.optional(),
      service: serviceName.optional(),
      hostname: hostname.optional(),
      host: host.optional(),
      status: z.enum(['up', 'down']).optional().describe('Only allocations whose local port is (up) or is not (down) listening now'),
      probe: z.boolean().default(false).describe('Look at the listening sockets to fill in status'),
      ...pageInput,
    }),
    output: z.object({ items: z.array(allocationOutput.extend({ status: z.enum(['up', 'down', 'unknown']) })), ...pageOutput }),
    handler: async ({ services }, input) => {
      const page = await services.ports.list(input);
      return { items: page.items.map((a) => ({ ...allocationView(a), status: a.status })), nextCursor: page.nextCursor };
    },
  }),
  defineOperation({
    name: 'release_port',
    title: 'Release port',
    description: "Free a service's port; the only way a reservation ends (a stopped service keeps its port). Releasing a service that has no port answers released: false.",
    domain: ports,
    access: 'any',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/port' },
    cli: { command: ['port', 'release'], args: ['project', 'service'] },
    input: z.object(allocationKey),
    output: z.object({ released: z.boolean(), allocation: allocationOutput.nullable().describe('What was released') }),
    handler: async ({ services, principal }, input) => {
      const result = await services.ports.release(principal, input);
      return { released: result.released, allocation: result.allocation && allocationView(result.allocation) };
    },
  }),
  defineOperation({
    name: 'port_summary',
    title: 'Port summary',
    description: 'Per project: range, usable ports (deny list and ephemeral range removed), used, free and utilization in percent (paginated). Use to spot a range about to run out.',
    domain: ports,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/summary' },
    cli: { command: ['port', 'summary'], args: ['project'] },
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
    handler: async ({ services }, input) => {
      const page = await services.ports.summary(input);
      return { items: page.items.map((s) => ({ ...s, range: formatRange(s.range) })), nextCursor: page.nextCursor };
    },
  }),
  defineOperation({
    name: 'check_port',
    title: 'Check port',
    description: 'Who owns port N: the project whose range holds it, its allocations, whether it is never handed out (deny list, ephemeral range), and on this host whether something listens on it now, with pid and command.',
    domain: ports,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/check' },
    cli: { command: ['port', 'check'], args: ['port'] },
    input: z.object({ port, host: host.optional(), protocol: protocol.optional() }),
    output: z.object({
      port: z.number().int(),
      host: z.string(),
      project: projectOutput.nullable().describe('The project whose range holds the port'),
      allocations: z.array(allocationOutput),
      excluded: z.enum(['deny_list', 'ephemeral']).nullable().describe('Why the port is never handed out, if it is not'),
      listening: z.boolean().nullable().describe('null for another host: only this host can be probed'),
      sockets: z.array(socketOutput.extend({ protocol })),
    }),
    handler: async ({ services }, input) => {
      const result = await services.ports.check(input);
      return { ...result, project: result.project && projectView(result.project), allocations: result.allocations.map(allocationView) };
    },
  }),
  defineOperation({
    name: 'audit_ports',
    title: 'Audit ports',
    description: "Compare the registry with this host's listening sockets (/proc, IPv4 and IPv6): ok (allocated, owner listening), down (allocated, nothing listening; still reserved), conflict (another process on an allocated port, with pid and command), unknown (listening in a project's range without an allocation; import_ports adopts them). A project token audits its own project.",
    domain: ports,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/ports/audit' },
    cli: { command: ['port', 'audit'], args: ['project'] },
    input: z.object({ project: project.optional(), limit: z.number().int().min(1).max(1000).default(200).describe('Items per group at most') }),
    output: z.object({
      project: z.string().nullable(),
      counts: z.object({ ok: z.number().int(), down: z.number().int(), conflict: z.number().int(), unknown: z.number().int() }),
      truncated: z.boolean().describe('True when a group had more items than limit'),
      ok: z.array(auditItemOutput),
      down: z.array(auditItemOutput),
      conflict: z.array(auditItemOutput),
      unknown: z.array(auditItemOutput),
    }),
    handler: ({ services, principal }, input) => services.ports.audit(principal, input),
  }),
  defineOperation({
    name: 'import_ports',
    title: 'Import listening ports',
    description: "Adopt the processes listening inside a project's range without an allocation (audit_ports' unknown group) as allocations named after their program, e.g. server-3105. Dry run unless apply is true; deny-listed and ephemeral ports are skipped. A project token imports into its own project.",
    domain: ports,
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/ports/import' },
    cli: { command: ['port', 'import'], args: ['project'] },
    input: z.object({ project: project.optional(), apply: z.boolean().default(false).describe('Write the allocations; false only shows them') }),
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
    handler: ({ services, principal }, input) => services.ports.importListeners(principal, input),
  }),
];
