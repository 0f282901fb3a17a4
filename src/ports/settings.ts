import { z } from 'zod';
import { defineSettings } from '../core/settings.js';
import { DEFAULT_DENY_LIST } from './policy.js';

const port = z.coerce.number().int().min(1).max(65535);

/** A port as written in a list: its text is kept for the message when it is not one ("abc", "70000"). */
const listedPort = z.union([z.number(), z.string()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^\s*\d+\s*$/.test(v) ? Number(v) : Number.NaN;
  if (Number.isInteger(n) && n >= 1 && n <= 65535) return n;
  ctx.addIssue({ code: 'custom', message: `${JSON.stringify(typeof v === 'string' ? v.trim() : v)} is not a port (1-65535)` });
  return z.NEVER;
});

/** Comma-separated ports (or a YAML list) → numbers. */
const portList = z
  .union([z.string(), z.array(z.union([z.number(), z.string()]))])
  .transform((v) => (Array.isArray(v) ? v : v.split(',').filter((p) => p.trim() !== '')))
  .pipe(z.array(listedPort));

export const portSettings = defineSettings({
  portBlockStart: { env: 'SUPERVISOR_PORT_BLOCK_START', schema: port, default: 3000, doc: 'First port of the default project blocks (meta gets the first block).' },
  portBlockSize: { env: 'SUPERVISOR_PORT_BLOCK_SIZE', schema: z.coerce.number().int().positive().max(10_000), default: 100, doc: 'Ports per default project block.' },
  portDenyList: { env: 'SUPERVISOR_PORT_DENY_LIST', schema: portList, default: DEFAULT_DENY_LIST.join(','), doc: 'Comma-separated ports never handed out (infrastructure that may run on the host). The list replaces the default: keep its ports in yours.', live: true },
});
