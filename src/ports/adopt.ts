import { basename } from 'node:path';
import type { Protocol } from './model.js';
import type { Exclusions } from './policy.js';
import type { AuditItem } from './reconcile.js';

/** A listener `import_ports` would turn into an allocation. */
export interface Adoption {
  project: string;
  service: string;
  port: number;
  protocol: Protocol;
  /** Recorded as the allocation's command, so later audits recognise the owner. */
  command: string | null;
  pid: number | null;
}

export interface Skipped {
  project: string;
  port: number;
  protocol: Protocol;
  reason: string;
}

/** Runtimes whose script names the program better than the runtime does. */
const INTERPRETERS = new Set(['node', 'nodejs', 'bun', 'deno', 'python', 'ruby', 'perl', 'php', 'java', 'dotnet', 'tsx']);

/**
 * The word of a command line that names the program: the script an interpreter runs
 * (`node --import tsx src/server.ts` → src/server.ts), else the executable. Later
 * arguments change between restarts and may carry credentials (`--password=…`).
 */
function programWord(command: string | null): string | null {
  const words = (command ?? '').split(/\s+/).filter((w) => w !== '');
  const executable = words[0];
  if (executable === undefined) return null;
  if (!INTERPRETERS.has(basename(executable).replace(/[\d.]+$/, ''))) return executable;
  for (let i = 1; i < words.length; i++) {
    const word = words[i]!;
    // Code on the command line (python -c, node -e): what follows is no file, and may hold anything.
    if (CODE_FLAGS.has(word)) return executable;
    // A module run as the program (python -m http.server) names it.
    if (word === '-m') return FILE_LIKE.test(words[i + 1] ?? '') ? words[i + 1]! : executable;
    // The script is the first argument that looks like a file; flags and their values do not.
    if (!word.startsWith('-') && FILE_LIKE.test(word) && (word.includes('/') || /\.[a-z]+$/i.test(word))) return word;
  }
  return executable;
}

/** Flags after which an interpreter reads code, not a file: node -e/-p/--eval/--print, python -c, ruby/perl -e/-E, php -r. */
const CODE_FLAGS = new Set(['-c', '-e', '-E', '-p', '-r', '--eval', '--print']);
/** A word that can be a file or module name: no URL, no user@host, no key=value, nothing quoted. */
const FILE_LIKE = /^[\w./~+-]+$/;

/** What an adopted allocation records as its owner: one contiguous piece of the command line, so the audit can find it there. */
export function ownerCommand(command: string | null): string | null {
  return programWord(command)?.slice(0, 200) ?? null;
}

/** A service name from the listening program (`node dist/server.js` on 3105 → server-3105), valid for allocate_port. */
export function serviceNameFor(command: string | null, port: number): string {
  const named = basename(programWord(command) ?? '').replace(/\.[a-z]+$/i, '');
  const slug = named.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[^a-z0-9]+/, '').slice(0, 50);
  return `${slug || 'port'}-${port}`;
}

/** What an import would do with the unknown listeners: adopt each port once, skip what is never handed out. */
export function planAdoptions(unknown: AuditItem[], exclusions: Exclusions, allocated: AuditItem[]): { adopt: Adoption[]; skipped: Skipped[] } {
  const adopt: Adoption[] = [];
  const skipped: Skipped[] = [];
  const ports = new Set<number>();
  // A number is held once for tcp and udp: a listener on a number allocated for the other protocol cannot be adopted.
  const holders = new Map(allocated.map((a) => [a.port, a]));
  for (const item of unknown) {
    const where = { project: item.project, port: item.port, protocol: item.protocol };
    const excluded = exclusions.reason(item.port);
    const holder = holders.get(item.port);
    const socket = item.sockets.find((s) => s.pid !== null) ?? item.sockets[0];
    // Processes of different programs on one port (one on 127.0.0.1, another on ::1): whichever were
    // recorded as the owner, the next audit would call the other a conflict.
    const programs = [...new Set(item.sockets.flatMap((s) => s.processes).map((p) => ownerCommand(p.command)).filter((c): c is string => c !== null))];
    // An unknown listener with a reason is not a stranger (the daemon itself): the reason says what to do instead.
    if (item.reason) skipped.push({ ...where, reason: item.reason });
    else if (excluded) skipped.push({ ...where, reason: excluded === 'deny_list' ? 'on the deny list' : 'in the ephemeral range' });
    else if (holder) skipped.push({ ...where, reason: `port ${item.port} is allocated to ${holder.project}/${holder.service ?? '?'} for ${holder.protocol}, and a port number is held once for tcp and udp` });
    else if (ports.has(item.port)) skipped.push({ ...where, reason: 'the same port is adopted for the other protocol' });
    else if (programs.length > 1) {
      skipped.push({ ...where, reason: `several programs listen on it (${programs.join(', ')}); stop the one that should not, or allocate the port to the right one with its command (allocate_port)` });
    } else {
      ports.add(item.port);
      const command = socket?.command ?? null;
      adopt.push({ ...where, service: serviceNameFor(command, item.port), command: ownerCommand(command), pid: socket?.pid ?? null });
    }
  }
  return { adopt, skipped };
}
