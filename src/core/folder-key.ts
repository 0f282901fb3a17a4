import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * What tells one folder from another: its device and inode, so another path to it (a symlink, a
 * bind mount) is the same folder; its resolved path when it cannot be looked at.
 */
export async function folderKey(directory: string): Promise<string> {
  return stat(directory).then(
    (s) => `inode ${s.dev}:${s.ino}`,
    () => `path ${resolve(directory)}`,
  );
}

/**
 * What a message about projects sharing `own`'s folder adds when some reach it by other paths:
 * " (the same folder, reached through a link: /a, /b)", or nothing.
 */
export function throughLinks(own: string, others: readonly string[]): string {
  const elsewhere = [...new Set(others.filter((d) => d !== own))];
  return elsewhere.length > 0 ? ` (the same folder, reached through a link: ${elsewhere.join(', ')})` : '';
}
