import { randomBytes } from 'node:crypto';
import type { Stats } from 'node:fs';
import { chmod, chown, link, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, basename, join } from 'node:path';

/** `.<name>.<random>.tmp` beside `path`: hidden, and recognisable as ours by removeStrayTempFiles. */
function tempPathFor(path: string): string {
  return join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
}

const TEMP_NAME = /^\.(.+)\.[0-9a-f]{12}\.tmp$/;

/** The file name a temp file of ours (`.<name>.<hex>.tmp`, see tempPathFor) was for; undefined for any other name. */
export const tempFileTarget = (name: string): string | undefined => TEMP_NAME.exec(name)?.[1];

/** Writes `data` to a new temp file beside `path` and fsyncs it; the caller renames or links it into place. */
async function writeTemp(path: string, data: string | Buffer, mode: number): Promise<string> {
  const tmp = tempPathFor(path);
  try {
    const handle = await open(tmp, 'wx', mode);
    try {
      // The mode asked for, whatever the umask (the CLI runs with 077): a project's CLAUDE.md or
      // layer file must stay readable by its agents' users and by git, a key file by no one else.
      await handle.chmod(mode);
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (err) {
    // A half-written temp file may hold key material: never leave it behind.
    await rm(tmp, { force: true });
    throw err;
  }
  return tmp;
}

/**
 * Writes a file so readers see either the old or the new content, never half:
 * temp file in the same folder, fsync, rename over the target, fsync the folder.
 */
export async function writeFileAtomic(path: string, data: string | Buffer, mode = 0o600): Promise<void> {
  const tmp = await writeTemp(path, data, mode);
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
 * as root, the owner) of `like`, the file it replaces, or `newFileMode` when there was none:
 * a replaced inode would otherwise belong to us.
 */
export async function writeFileLike(path: string, data: string | Buffer, like: Stats | undefined, newFileMode: number): Promise<void> {
  const mode = like ? like.mode & 0o7777 : newFileMode;
  await writeFileAtomic(path, data, mode);
  if (!like || process.getuid?.() !== 0) return;
  const now = await stat(path);
  if (now.uid !== like.uid || now.gid !== like.gid) await chown(path, like.uid, like.gid);
}

/**
 * Creates a file only if it does not exist yet; returns false when it already did.
 * The file appears with its whole content at once (temp file, then link(), which
 * fails if the name is taken), so a reader or a crash never sees it empty.
 */
export async function createFileExclusive(path: string, data: string | Buffer, mode = 0o600): Promise<boolean> {
  for (let attempt = 1; ; attempt++) {
    const tmp = await writeTemp(path, data, mode);
    try {
      await link(tmp, path);
      break;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Our temp file was taken for one a killed writer left (removeStrayTempFiles): write it again.
      if (code !== 'ENOENT' || attempt === 3) throw err;
    } finally {
      await rm(tmp, { force: true });
    }
  }
  await syncDir(dirname(path));
  return true;
}

/** Removes a file (if there) and makes the removal durable. */
export async function removeFileDurably(path: string): Promise<void> {
  await rm(path, { force: true });
  await syncDir(dirname(path));
}

/**
 * Removes temp files a killed writer left in `dir` (only those of the given file
 * names, or those `names` accepts, or all when it is omitted). Call it only while no
 * writer can be running, i.e. under the lock the writers take.
 */
export async function removeStrayTempFiles(dir: string, names?: readonly string[] | ((name: string) => boolean)): Promise<void> {
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  const stray = entries.filter((entry) => {
    const target = tempFileTarget(entry);
    return target !== undefined && (names === undefined || (typeof names === 'function' ? names(target) : names.includes(target)));
  });
  await Promise.all(stray.map((entry) => rm(join(dir, entry), { force: true })));
  if (stray.length > 0) await syncDir(dir);
}

export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/** mkdir -p where every folder it creates gets `mode`, whatever the umask (see writeTemp). */
export async function makeDirectory(dir: string, mode: number): Promise<void> {
  const first = await mkdir(dir, { recursive: true, mode });
  if (first === undefined) return;
  for (let d = dir; ; d = dirname(d)) {
    await chmod(d, mode);
    if (d === first || dirname(d) === d) break;
  }
}
