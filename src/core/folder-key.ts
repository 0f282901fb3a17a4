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
