import type { Principal } from '../core/principal.js';

/** What a project token is shown in place of the instructions root's path. */
export const HIDDEN_ROOT = '<instructions root>';

/**
 * How the instructions root reads in an answer to `principal`. The root is a folder of this host
 * (by default in the data dir) outside every project: a project token may see which shared layer
 * files shape its CLAUDE.md, not where the host keeps them. Admins see the path.
 */
export function rootShownTo(principal: Principal, root: string): (text: string) => string {
  if (principal.role === 'admin' || root === '') return (text) => text;
  return (text) => text.split(root).join(HIDDEN_ROOT);
}
