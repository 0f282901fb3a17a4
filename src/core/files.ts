import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, chown, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/**
 * Writes a file so readers see either the old or the new content, never half:
 * temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(tmp, 'wx', mode);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw err;
  }
  await syncDir(dirname(path));
}

/**
 * writeFileAtomic for a file people also edit: the new file gets the mode (and, when running
 * as root, the owner) of `like`, the file it replaces, or `newFileMode` when there was none.
 * The open() mode is reduced by the umask, and a replaced inode would otherwise belong to us.
 */
export async function writeFileLike(path: string, data: string | Buffer, like: Stats | undefined, newFileMode: number): Promise<void> {
  const mode = like ? like.mode & 0o7777 : newFileMode;
  await writeFileAtomic(path, data, mode);
  const now = await stat(path);
  if ((now.mode & 0o7777) !== mode) await chmod(path, mode);
  if (like && process.getuid?.() === 0 && (now.uid !== like.uid || now.gid !== like.gid)) {
    await chown(path, like.uid, like.gid);
  }
}

/** Creates a file only if it does not exist yet; returns false when it already did. */
export async function createFileExclusive(path: string, data: string | Buffer, mode = 0o600): Promise<boolean> {
  let handle;
  try {
    handle = await open(path, 'wx', mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await syncDir(dirname(path));
  return true;
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
