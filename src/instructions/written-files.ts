// Files the instructions domain writes into a project's checkout. Other domains (the PIV loop)
// must tell them from a person's or an agent's work: they are never a feature's change.
import { tempFileTarget } from '../core/files.js';
import { MANAGED_FILES } from './assemble.js';
import { LAYER_DIRS } from './layers.js';
import { MCP_CONFIG_FILE } from './mcp-config.js';

/** `CLAUDE.md.20260101-120000.bak` (or `…_002.bak`; earlier builds wrote `…-2.bak`, `…_2.bak`): the copy of a hand-edited file kept by an overwrite (hand-edits.ts). */
const BACKUP = new RegExp(`^(${MANAGED_FILES.map((f) => f.replace('.', '\\.')).join('|')})\\.\\d{8}-\\d{6}([-_]\\d+)?\\.bak$`);

const isOurs = (name: string): boolean => (MANAGED_FILES as readonly string[]).includes(name) || name === MCP_CONFIG_FILE || BACKUP.test(name);

/**
 * Whether a path (relative to the checkout's root) is one the supervisor writes there: the
 * instructions domain may write these at any time, also while a PIV loop runs, so a change to
 * one is never a feature's (a loop neither refuses to start for them nor commits them). The
 * project's own layer folder is among them: write_instruction_layer and an adopted hand edit
 * put files there; so are the temp files of these a killed write leaves, which the next
 * regeneration removes.
 */
export const isSupervisorWritten = (path: string): boolean => {
  // The temp file a write killed midway leaves (`.CLAUDE.md.<hex>.tmp`), of a backup or .mcp.json too.
  const temp = tempFileTarget(path);
  return isOurs(path) || (temp !== undefined && isOurs(temp)) || path.startsWith(`${LAYER_DIRS.project}/`);
};
