/**
 * Finds the listening sockets on this Linux host and the processes that own them by
 * reading /proc directly: no `ss`/`lsof`/`netstat` binaries to depend on, and no output
 * format that changes between distributions.
 */
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { SupervisorError } from '../core/errors.js';

export interface Listener {
  protocol: 'tcp' | 'udp';
  family: 4 | 6;
  address: string;
  port: number;
  inode: number;
  /** The lowest pid that holds the socket (usually the parent that opened it); null when none can be seen. */
  pid: number | null;
  command: string | null;
  /** Every process holding the socket (a forked worker shares its parent's): what `ss -p` lists as users. */
  processes: Array<{ pid: number; command: string | null }>;
}

export interface ProbeOptions {
  procRoot?: string;
}

export type RawSocket = Omit<Listener, 'pid' | 'command' | 'processes'>;

/** TCP_LISTEN for tcp; TCP_CLOSE (07) is how the kernel shows a bound, unconnected udp socket. */
const WANTED_STATE = { tcp: '0A', udp: '07' } as const;
const SOURCES = [
  { file: 'tcp', protocol: 'tcp', family: 4 },
  { file: 'tcp6', protocol: 'tcp', family: 6 },
  { file: 'udp', protocol: 'udp', family: 4 },
  { file: 'udp6', protocol: 'udp', family: 6 },
] as const;
/** Enough parallel syscalls to hide latency, few enough not to exhaust file descriptors. */
const CONCURRENCY = 32;
const SOCKET_LINK = /^socket:\[(\d+)\]$/;

export function parseProcNet(text: string, protocol: 'tcp' | 'udp', family: 4 | 6): RawSocket[] {
  const sockets: RawSocket[] = [];
  // First line is the column header.
  for (const line of text.split('\n').slice(1)) {
    // Columns: sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode ...
    const cols = line.trim().split(/\s+/);
    const [local, state, inode] = [cols[1], cols[3], cols[9]];
    if (local === undefined || inode === undefined || state !== WANTED_STATE[protocol]) continue;
    const [hexAddress = '', hexPort = ''] = local.split(':');
    sockets.push({
      protocol,
      family,
      address: renderAddress(hexAddress, family),
      port: parseInt(hexPort, 16),
      inode: Number(inode),
    });
  }
  return sockets;
}

/** The kernel prints each 32-bit word of the address as a host-order (little-endian) integer. */
function addressBytes(hex: string): number[] {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2) {
      bytes.push(parseInt(hex.slice(word + byte, word + byte + 2), 16));
    }
  }
  return bytes;
}

function renderAddress(hex: string, family: 4 | 6): string {
  const bytes = addressBytes(hex);
  if (family === 4) return bytes.join('.');
  const mapped = bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff;
  if (mapped) return `::ffff:${bytes.slice(12).join('.')}`;
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  return compressIpv6(groups);
}

/** RFC 5952 text: the longest run (first on ties) of two or more zero groups becomes `::`. */
function compressIpv6(groups: number[]): string {
  let best = { start: -1, length: 1 };
  for (let start = 0; start < groups.length; start++) {
    let end = start;
    while (groups[end] === 0) end++;
    if (end - start > best.length) best = { start, length: end - start };
  }
  const text = groups.map((g) => g.toString(16));
  if (best.start < 0) return text.join(':');
  const head = text.slice(0, best.start).join(':');
  const tail = text.slice(best.start + best.length).join(':');
  return `${head}::${tail}`;
}

function isMissing(err: unknown): boolean {
  return (err as NodeJS.ErrnoException).code === 'ENOENT';
}

export async function readSockets(procRoot = '/proc'): Promise<RawSocket[]> {
  const sockets: RawSocket[] = [];
  for (const { file, protocol, family } of SOURCES) {
    const path = join(procRoot, 'net', file);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (file === 'tcp') {
        throw new SupervisorError(
          'unavailable',
          `${path} could not be read; the port audit needs Linux /proc`,
          { path, cause: (err as Error).message },
        );
      }
      // No tcp6/udp6 when IPv6 is disabled: nothing listens there.
      if (isMissing(err)) continue;
      throw err;
    }
    sockets.push(...parseProcNet(text, protocol, family));
  }
  return sockets;
}

/** Runs `fn` over `items` with at most CONCURRENCY in flight; workers share one iterator. */
async function eachLimited<T>(items: T[], fn: (item: T) => Promise<void>, stop = () => false): Promise<void> {
  const queue = items.values();
  const worker = async () => {
    for (const item of queue) {
      if (stop()) return;
      await fn(item);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, items.length) }, worker));
}

/**
 * Entries we can't list or read belong to other users (EACCES) or to processes that just
 * exited (ENOENT, ESRCH); any per-process failure only means that process stays unattributed.
 */
async function quietly<T>(read: () => Promise<T>, fallback: T): Promise<T> {
  try {
    return await read();
  } catch {
    return fallback;
  }
}

/**
 * One pass over /proc/<pid>/fd: every process holding each wanted inode, lowest pid first.
 * The whole of /proc is read (a socket shared by forked processes has several owners, and
 * only the last process can tell there is no other one).
 */
async function findOwners(procRoot: string, wanted: Set<number>): Promise<Map<number, number[]>> {
  const owners = new Map<number, number[]>();
  if (wanted.size === 0) return owners;
  const pids = (await readdir(procRoot)).filter((name) => /^\d+$/.test(name)).map(Number);
  await eachLimited(pids, async (pid) => {
    const fdDir = join(procRoot, String(pid), 'fd');
    const held = new Set<number>();
    for (const fd of await quietly(() => readdir(fdDir), [])) {
      const match = SOCKET_LINK.exec(await quietly(() => readlink(join(fdDir, fd)), ''));
      if (match && wanted.has(Number(match[1]))) held.add(Number(match[1]));
    }
    for (const inode of held) owners.set(inode, [...(owners.get(inode) ?? []), pid]);
  });
  for (const list of owners.values()) list.sort((a, b) => a - b);
  return owners;
}

async function readCommand(procRoot: string, pid: number): Promise<string | null> {
  const dir = join(procRoot, String(pid));
  const cmdline = await quietly(() => readFile(join(dir, 'cmdline'), 'utf8'), '');
  const command = cmdline.replace(/\0/g, ' ').trim();
  // Kernel threads and zombies have an empty cmdline; comm still names them.
  if (command !== '') return command;
  const comm = (await quietly(() => readFile(join(dir, 'comm'), 'utf8'), '')).trim();
  return comm === '' ? null : comm;
}

/** The processes of the given sockets, with their commands (an empty list where none can be seen). */
export async function attachOwners<S extends RawSocket>(sockets: S[], options: ProbeOptions = {}): Promise<Array<S & Pick<Listener, 'pid' | 'command' | 'processes'>>> {
  const procRoot = options.procRoot ?? '/proc';
  const owners = await findOwners(procRoot, new Set(sockets.map((s) => s.inode)));
  const commands = new Map<number, string | null>();
  await eachLimited([...new Set([...owners.values()].flat())], async (pid) => {
    commands.set(pid, await readCommand(procRoot, pid));
  });
  return sockets.map((socket) => {
    const processes = (owners.get(socket.inode) ?? []).map((pid) => ({ pid, command: commands.get(pid) ?? null }));
    return { ...socket, pid: processes[0]?.pid ?? null, command: processes[0]?.command ?? null, processes };
  });
}

export async function listListeners(options: ProbeOptions = {}): Promise<Listener[]> {
  return attachOwners(await readSockets(options.procRoot ?? '/proc'), options);
}
