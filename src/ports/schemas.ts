import { hostname as machineName } from 'node:os';
import { z } from 'zod';
import type { WithDates } from '../catalog/operation.js';
import type { Principal } from '../core/principal.js';
import { ownerCommand } from './adopt.js';
import { LOCAL_HOST, type Allocation, type ProjectRange } from './model.js';
import { hostProblem } from './host-name.js';
import { formatRange, portNumber, rangeSize } from './range.js';

/** Same rule as the port_allocations CHECK, so a bad name is refused before the database sees it. */
export const serviceName = z
  .string()
  .regex(/^[a-z0-9][a-z0-9._-]{0,62}$/, 'a service name is 1-63 characters: lowercase letters, digits, ., _ and -, starting with a letter or digit')
  .describe('Service name, e.g. api');

/** Names of this machine itself: an allocation under one of them is on `local`, or two services here could get one port. */
const THIS_MACHINE = new Set(['localhost', 'localhost.localdomain', '127.0.0.1', machineName().toLowerCase()]);

const hostText = z.string().regex(/^[a-z0-9][a-z0-9.-]{0,62}$/, 'a host is 1-63 characters: lowercase letters, digits, . and -');
const onThisMachine = (name: string) => (THIS_MACHINE.has(name) ? LOCAL_HOST : name);
const hostDescription = 'Machine: local (default) or a VM name';

/** A host an allocation is looked up by: lenient, so a row stored before names were checked can still be listed and released. */
export const host = hostText.transform(onThisMachine).describe(hostDescription);

/** A host a new allocation is made on: a name the tunnel can route to. */
export const newHost = hostText
  .superRefine((name, ctx) => {
    const problem = name === LOCAL_HOST ? undefined : hostProblem(name);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  })
  .transform(onThisMachine)
  .describe(hostDescription);

const noNul = (s: string) => !s.includes('\0');
// Lower-cased as add_tunnel_route does (DNS names are case-blind): API.Example.com is api.example.com, not refused.
export const hostname = z
  .string()
  .max(253)
  .toLowerCase()
  .regex(/^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/, {
    // The fully qualified form (a final dot) is what DNS tools print, so it is said, not lumped in.
    error: (issue) =>
      typeof issue.input === 'string' && /[^.]\.$/.test(issue.input) ? 'a hostname is written without a final dot: api.example.com, not api.example.com.' : 'a hostname is a DNS name such as api.example.com',
  })
  .describe('Public hostname the tunnel routes here');
export const description = z.string().max(500).refine(noNul, 'must not contain NUL bytes').describe('What the port is for');
export const command = z
  .string()
  .max(200)
  .refine((c) => c.trim() !== '', 'must name the program or script the owner runs, e.g. server.js')
  .refine(noNul, 'must not contain NUL bytes')
  .describe("Whole words of the owner's command line (its script: server.js); audit_ports calls other processes on the port conflicts");
export const protocol = z.enum(['tcp', 'udp']);
export const port = portNumber.describe('Port number, 1-65535');

const isoDate = z.string().describe('ISO 8601 timestamp');
const rangeText = z.string().describe('Port range first-last, both included');

export const rangeOutput = z.object({
  project: z.string(),
  range: rangeText,
  start: z.number().int(),
  end: z.number().int(),
  size: z.number().int(),
  createdAt: isoDate,
});

export const allocationOutput = z.object({
  project: z.string(),
  service: z.string(),
  host: z.string(),
  port: z.number().int(),
  protocol,
  hostname: z.string().nullable(),
  description: z.string().nullable(),
  command: z.string().nullable(),
  createdAt: isoDate,
});

export const socketOutput = z.object({
  address: z.string(),
  family: z.union([z.literal(4), z.literal(6)]),
  pid: z.number().int().nullable().describe('Owning process (the lowest pid when several share the socket); null when it belongs to another user'),
  command: z.string().nullable().describe("That process's command line; a project token is shown its program only (arguments can carry credentials)"),
  processes: z.array(z.object({ pid: z.number().int(), command: z.string().nullable() })).describe('Every process holding the socket, as `ss -p` lists them: a forked worker shares its parent\'s'),
});

export const auditItemOutput = z.object({
  project: z.string(),
  service: z.string().nullable().describe('The service the port is allocated to; null for unknown listeners'),
  port: z.number().int(),
  protocol,
  expectedCommand: z.string().nullable().describe("The owner's command the allocation records; null when it records none"),
  sockets: z.array(socketOutput),
  reason: z.string().nullable().describe('For a conflict: why the listener is taken to be someone else (null in the other groups)'),
});

export const rangeView = (p: ProjectRange): WithDates<z.input<typeof rangeOutput>> => ({
  project: p.project,
  range: formatRange(p.range),
  start: p.range.start,
  end: p.range.end,
  size: rangeSize(p.range),
  createdAt: p.createdAt,
});

/**
 * An allocation as `viewer` is shown it: the command recorded for another project's service is
 * its program only, as a listening process's is (arguments can carry credentials, see command-view.ts).
 */
export const allocationView = (a: Allocation, viewer: Principal): WithDates<z.input<typeof allocationOutput>> => ({
  project: a.project,
  service: a.service,
  host: a.host,
  port: a.port,
  protocol: a.protocol,
  hostname: a.hostname,
  description: a.description,
  command: viewer.role === 'admin' || viewer.project === a.project ? a.command : ownerCommand(a.command),
  createdAt: a.createdAt,
});
