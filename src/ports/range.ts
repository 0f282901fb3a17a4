import { z } from 'zod';

/** A contiguous block of ports, both ends included (what people write: 4000-4999). */
export interface PortRange {
  start: number;
  end: number;
}

export const MIN_PORT = 1;
export const MAX_PORT = 65535;

export const rangeSize = (r: PortRange): number => r.end - r.start + 1;
export const formatRange = (r: PortRange): string => `${r.start}-${r.end}`;
export const inRange = (r: PortRange, port: number): boolean => port >= r.start && port <= r.end;

/** How many ports two ranges share (0 when disjoint). */
export function overlapSize(a: PortRange, b: PortRange): number {
  return Math.max(0, Math.min(a.end, b.end) - Math.max(a.start, b.start) + 1);
}

/** Parses "first-last"; returns what is wrong as text so both zod and plain callers can report it. */
export function parseRange(text: string): PortRange | string {
  const match = /^\s*(\d{1,5})\s*-\s*(\d{1,5})\s*$/.exec(text);
  if (!match) return `"${text.slice(0, 40)}" is not a port range; write first-last, e.g. 4000-4999`;
  const range = { start: Number(match[1]), end: Number(match[2]) };
  for (const port of [range.start, range.end]) {
    if (port < MIN_PORT || port > MAX_PORT) return `port ${port} is outside ${MIN_PORT}-${MAX_PORT}`;
  }
  if (range.start > range.end) return `${formatRange(range)} is reversed: the first port must not be above the last (did you mean ${range.end}-${range.start}?)`;
  return range;
}

/** A port range as text in, {start, end} out; bad text is a validation issue naming the field. */
export const portRangeInput = z
  .string()
  .max(40)
  .transform((text, ctx) => {
    const parsed = parseRange(text);
    if (typeof parsed === 'string') {
      ctx.addIssue({ code: 'custom', message: parsed });
      return z.NEVER;
    }
    return parsed;
  })
  .describe('Port range first-last, both included, e.g. 4000-4999');

const PORT_RULE = `a port is a whole number from ${MIN_PORT} to ${MAX_PORT}`;
// Left out, a port is "required" (zod's own words, turned into ours); sent as text, it is said so.
export const portNumber = z
  .number({ error: (issue) => (issue.input === undefined ? undefined : typeof issue.input === 'string' ? `${PORT_RULE} (in JSON a number, not text; in a query string, decimal digits)` : PORT_RULE) })
  .int(PORT_RULE)
  .min(MIN_PORT, PORT_RULE)
  .max(MAX_PORT, PORT_RULE);
