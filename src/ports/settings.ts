import { z } from 'zod';
import { defineSettings } from '../core/settings.js';
import { DEFAULT_DENY_LIST } from './policy.js';

const port = z.coerce.number().int().min(1).max(65535);

/** Comma-separated ports (or a YAML list) → numbers. */
const portList = z
  .union([z.string(), z.array(z.number())])
  .transform((v) => (Array.isArray(v) ? v : v.split(',').filter((p) => p.trim() !== '').map(Number)))
  .pipe(z.array(z.number().int().min(1).max(65535)));

export const portSettings = defineSettings({
  portBlockStart: { env: 'SUPERVISOR_PORT_BLOCK_START', schema: port, default: 3000, doc: 'First port of the default project blocks (meta gets the first block).' },
  portBlockSize: { env: 'SUPERVISOR_PORT_BLOCK_SIZE', schema: z.coerce.number().int().positive().max(10_000), default: 100, doc: 'Ports per default project block.' },
  portDenyList: { env: 'SUPERVISOR_PORT_DENY_LIST', schema: portList, default: DEFAULT_DENY_LIST.join(','), doc: 'Comma-separated ports never handed out (infrastructure that may run on the host).', live: true },
});
