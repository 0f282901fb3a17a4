import { readFile } from 'node:fs/promises';
import { inRange, overlapSize, rangeSize, type PortRange } from './range.js';

/** Where default blocks go and which ports are never handed out. */
export interface PortPolicy {
  /** First port of the first default block (the meta project's). */
  defaultBlockStart: number;
  /** Ports per default block. */
  blockSize: number;
  /** Well-known ports of infrastructure that may run on the host; a service reserving one would break it. */
  denyList: number[];
  /** The range of the `shared` project, for services several projects use. */
  sharedRange: PortRange;
}

/** Well-known ports of infrastructure that may run on the host; a service reserving one would break it. */
export const DEFAULT_DENY_LIST = [22, 25, 53, 80, 443, 2375, 2376, 2379, 2380, 3306, 5432, 5672, 6379, 8500, 9042, 9092, 9200, 9300, 11211, 15672, 27017];

export const DEFAULT_POLICY: PortPolicy = {
  defaultBlockStart: 3000,
  blockSize: 100,
  denyList: DEFAULT_DENY_LIST,
  sharedRange: { start: 9000, end: 9099 },
};

export const EPHEMERAL_RANGE_FILE = '/proc/sys/net/ipv4/ip_local_port_range';
/** Linux's default, used where the file cannot be read: guessing "none" would hand out ports the kernel uses. */
export const LINUX_DEFAULT_EPHEMERAL: PortRange = { start: 32768, end: 60999 };

/** The kernel's range for outgoing connections' local ports: a listener there can collide with any client. */
export async function readEphemeralRange(file = EPHEMERAL_RANGE_FILE): Promise<PortRange> {
  try {
    const [start, end] = (await readFile(file, 'utf8')).trim().split(/\s+/).map(Number);
    if (start !== undefined && end !== undefined && Number.isInteger(start) && Number.isInteger(end) && start <= end) return { start, end };
  } catch {
    // Not Linux, or /proc not mounted: fall through to the default.
  }
  return LINUX_DEFAULT_EPHEMERAL;
}

/** The ports a policy never hands out on this host, in the forms the allocator and the reports need. */
export class Exclusions {
  private readonly deny: Set<number>;
  /** The same set as an int4multirange literal, so the database skips these ports itself. */
  readonly multirange: string;

  constructor(
    denyList: number[],
    readonly ephemeral: PortRange,
  ) {
    this.deny = new Set(denyList);
    const ranges = [...this.deny].map((p) => `[${p},${p + 1})`);
    ranges.push(`[${ephemeral.start},${ephemeral.end + 1})`);
    this.multirange = `{${ranges.join(',')}}`;
  }

  /** Why a port is never handed out, or null when it may be. */
  reason(port: number): 'deny_list' | 'ephemeral' | null {
    if (this.deny.has(port)) return 'deny_list';
    return inRange(this.ephemeral, port) ? 'ephemeral' : null;
  }

  /**
   * What of `range` may be handed out, in words: usable ports out of all, and which are
   * never handed out and why (null when every port may be).
   */
  usability(range: PortRange): { usable: number; size: number; excluded: string | null } {
    const size = rangeSize(range);
    const usable = this.capacity(range);
    const parts: string[] = [];
    const ephemeral = overlapSize(range, this.ephemeral);
    if (ephemeral > 0) {
      const from = Math.max(range.start, this.ephemeral.start);
      const to = Math.min(range.end, this.ephemeral.end);
      parts.push(`${from === to ? from : `${from}-${to}`} ${ephemeral === 1 ? 'is' : 'are'} in the OS ephemeral range ${this.ephemeral.start}-${this.ephemeral.end} (local ports of outgoing connections)`);
    }
    const denied = [...this.deny].filter((p) => inRange(range, p) && !inRange(this.ephemeral, p)).sort((a, b) => a - b);
    if (denied.length > 0) parts.push(`${denied.join(', ')} ${denied.length === 1 ? 'is' : 'are'} on the deny list`);
    return { usable, size, excluded: parts.length === 0 ? null : parts.join('; ') };
  }

  /** Ports of `range` that may be handed out. */
  capacity(range: PortRange): number {
    const denied = [...this.deny].filter((p) => inRange(range, p) && !inRange(this.ephemeral, p)).length;
    return rangeSize(range) - overlapSize(range, this.ephemeral) - denied;
  }
}
