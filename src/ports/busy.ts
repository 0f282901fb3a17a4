import { viewProcesses, wholeCommand, type CommandView } from './command-view.js';
import type { Protocol } from './model.js';
import type { Listener, RawSocket } from './probe.js';
import type { PortClaim } from '../core/port-claims.js';
import { inRange, type PortRange } from './range.js';

/** A port allocation passed over because something listens on it now, and who. */
export interface SkippedPort {
  port: number;
  protocol: Protocol;
  reason: string;
  /** The processes listening on it (several when forked workers share the socket). */
  processes: Array<{ pid: number; command: string | null }>;
}

/**
 * The ports this host listens on right now (any address, IPv4 and IPv6), read from
 * /proc/net once for a call or a batch, and the ports a tunnel routes to (PortClaim):
 * allocation skips them. Whatever the protocol: the
 * registry holds one number per host for tcp and udp alike (a port allocated for udp cannot be
 * allocated for tcp), so a udp allocation must not get the number a tcp server listens on, or
 * that server could never be registered. Owners (pids, commands) are looked up only for the few
 * ports a call reports.
 */
export class BusyPorts {
  static readonly none = new BusyPorts([], async (sockets) => sockets.map((s) => ({ ...s, pid: null, command: null, processes: [] })));

  private readonly numbers: number[];

  constructor(
    readonly sockets: RawSocket[],
    private readonly owners: (sockets: RawSocket[]) => Promise<Listener[]>,
    /** How skip reports show commands to the caller; listeners() keeps them whole, for matching. */
    private readonly view: CommandView = wholeCommand,
    private readonly claims: readonly PortClaim[] = [],
  ) {
    this.numbers = [...new Set([...sockets.map((s) => s.port), ...claims.map((c) => c.port)])].sort((a, b) => a - b);
  }

  /** Who routes traffic to `port` (none when only a listener makes it busy). */
  claimsOn(port: number): PortClaim[] {
    return this.claims.filter((c) => c.port === port);
  }

  /** The same, less the routes for `hostname`: an allocation asking for that hostname may take its port back. */
  withoutClaimsFor(hostname: string): BusyPorts {
    return new BusyPorts(this.sockets, this.owners, this.view, this.claims.filter((c) => c.hostname !== hostname));
  }

  ports(): number[] {
    return this.numbers;
  }

  has(port: number): boolean {
    return this.numbers.includes(port);
  }

  /** Busy ports as an int4multirange literal (integers only). */
  multirange(): string {
    return portsMultirange(this.numbers);
  }

  /** The same sockets less those on `port` of `protocol` (a service re-allocating the port it listens on). */
  without(protocol: Protocol, port: number): BusyPorts {
    return new BusyPorts(this.sockets.filter((s) => s.protocol !== protocol || s.port !== port), this.owners, this.view, this.claims);
  }

  /** The same sockets, their skip reports showing commands as `view` does. */
  shownWith(view: CommandView): BusyPorts {
    return new BusyPorts(this.sockets, this.owners, view, this.claims);
  }

  /** Busy ports in `range`. */
  within(range: PortRange): number[] {
    return this.numbers.filter((p) => inRange(range, p));
  }

  /** The listening sockets on these ports (of `protocol`, or of any), with their processes. */
  async listeners(ports: number[], protocol?: Protocol): Promise<Listener[]> {
    const wanted = new Set(ports);
    return this.owners(this.sockets.filter((s) => (protocol === undefined || s.protocol === protocol) && wanted.has(s.port)));
  }

  /** Each port as a skip report: why, and which processes listen on it. */
  async skipped(ports: number[]): Promise<SkippedPort[]> {
    const listeners = await this.listeners(ports);
    return ports.map((port) => {
      const here = listeners.filter((l) => l.port === port);
      const processes = viewProcesses(uniqueProcesses(here), this.view);
      const on = [...new Set(here.map((l) => `${l.protocol} on ${l.address}`))].join(', ');
      const routed = this.claimsOn(port).map((c) => c.by);
      const reasons = [...(here.length > 0 || routed.length === 0 ? [`listening now (${on}) ${whoText(processes)}`] : []), ...(routed.length > 0 ? [`traffic is routed to it: ${routed.join('; ')}`] : [])];
      return { port, protocol: here[0]?.protocol ?? 'tcp', reason: reasons.join('; '), processes };
    });
  }
}

/** Ports as an int4multirange literal; integers only, so it is safe as a query parameter's text. */
export function portsMultirange(ports: Iterable<number>): string {
  return `{${[...ports].filter((p) => Number.isInteger(p)).map((p) => `[${p},${p + 1})`).join(',')}}`;
}

function uniqueProcesses(listeners: Listener[]): Array<{ pid: number; command: string | null }> {
  const byPid = new Map<number, string | null>();
  for (const l of listeners) for (const p of l.processes) byPid.set(p.pid, p.command);
  return [...byPid].sort(([a], [b]) => a - b).map(([pid, command]) => ({ pid, command }));
}

/** "by pid 12 (node server.js)", or who cannot be seen. */
export function whoText(processes: Array<{ pid: number; command: string | null }>): string {
  if (processes.length === 0) return 'by a process this user cannot see';
  return `by ${processes.map((p) => `pid ${p.pid}${p.command ? ` (${p.command.slice(0, 80)})` : ''}`).join(', ')}`;
}
