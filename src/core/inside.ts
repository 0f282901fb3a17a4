// Where a file the supervisor reads or writes in a project really is. Project directories belong
// to agents and people: a CLAUDE.md (or .claude-specific/, a README) may be a symlink, and one that
// leads out of the project (into another project, /etc, the supervisor's own master key) must not
// be written through, nor read back into a CLAUDE.md, an agent's prompt or a project token's
// answer. Links that stay inside are followed, so a linked file stays a link.
import type { Stats } from 'node:fs';
import { lstat, open, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { forbidden, invalidInput, notFound, SupervisorError } from './errors.js';
import { errnoCode, fsFailure } from './fs-errors.js';
import { utf8Text } from './utf8.js';

export interface ResolvedFile {
  /** The path as named under the base, for messages. */
  shown: string;
  /** Where reads and writes go: symlinks resolved, inside the base. */
  path: string;
  /** Present when the file exists. */
  stats?: Stats;
}

/** The real path of a directory that must exist (a project's directory, the instructions root). */
export async function realDirectory(dir: string, what: string): Promise<string> {
  let real: string;
  let stats: Stats;
  try {
    real = await realpath(dir);
    stats = await stat(real);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') throw notFound(`${what} ${dir} does not exist`, { path: dir });
    throw fsFailure('open', dir, err);
  }
  if (!stats.isDirectory()) throw invalidInput(`${what} ${dir} is not a directory`, { path: dir });
  return real;
}

/** `relativePath` under `base`, refused when it (or a folder on the way) leads outside `base`. */
export async function resolveInside(base: string, relativePath: string, what: string): Promise<ResolvedFile> {
  return resolveUnder(await realDirectory(base, what), base, relativePath, what);
}

/** resolveInside with `base` already resolved to `baseReal`. */
async function resolveUnder(baseReal: string, base: string, relativePath: string, what: string): Promise<ResolvedFile> {
  const shown = join(base, relativePath);
  const named = join(baseReal, relativePath);
  try {
    await lstat(named);
  } catch (err) {
    if (errnoCode(err) !== 'ENOENT') throw fsFailure('open', shown, err);
    // A new file: the nearest folder that exists decides where it lands.
    const { real, rest } = await nearestExisting(dirname(named));
    const path = join(real, rest, basename(named));
    mustBeInside(baseReal, path, shown, what);
    return { shown, path };
  }
  let real: string;
  try {
    real = await realpath(named);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') {
      throw invalidInput(`${shown} is a symlink to ${await readlink(named)}, which does not exist; remove the link or create its target`, { path: shown });
    }
    throw fsFailure('open', shown, err);
  }
  mustBeInside(baseReal, real, shown, what);
  const stats = await stat(real);
  if (!stats.isFile()) throw invalidInput(`${shown} is not a regular file`, { path: shown });
  return { shown, path: real, stats };
}

/**
 * The text of `relativePath` under `base`, or undefined when there is none; `forbidden` when it
 * (or a folder on its way) leads outside `base`. The open file itself is checked again, so a link
 * swapped in after the check is not read through either.
 */
export async function readInside(base: string, relativePath: string, what: string): Promise<string | undefined> {
  const baseReal = await realDirectory(base, what);
  const target = await resolveUnder(baseReal, base, relativePath, what);
  if (!target.stats) return undefined;
  const handle = await open(target.path, 'r');
  try {
    const opened = await realpath(`/proc/self/fd/${handle.fd}`).catch(() => target.path);
    mustBeInside(baseReal, opened, target.shown, what);
    const text = utf8Text(await handle.readFile());
    if (text === undefined) throw invalidInput(`${target.shown} is not UTF-8 text; convert it to UTF-8`, { path: target.shown });
    return text;
  } finally {
    await handle.close();
  }
}

/**
 * readInside for a file a checkout may or may not have (a README, a package.json): one that
 * leads out of `base`, a dangling link or something that is not a regular file counts as absent.
 */
export async function readInsideIfThere(base: string, relativePath: string, what: string): Promise<string | undefined> {
  try {
    return await readInside(base, relativePath, what);
  } catch (err) {
    if (err instanceof SupervisorError && (err.code === 'forbidden' || err.code === 'invalid_input')) return undefined;
    throw err;
  }
}

/** `dir` under `base`, refused (`forbidden`) when it leads outside; undefined when it does not exist. */
export async function folderInside(base: string, dir: string, what: string): Promise<string | undefined> {
  const baseReal = await realDirectory(base, what);
  let real: string;
  try {
    real = await realpath(dir);
  } catch (err) {
    if (errnoCode(err) === 'ENOENT') return undefined;
    throw fsFailure('open', dir, err);
  }
  mustBeInside(baseReal, real, dir, what);
  return real;
}

async function nearestExisting(dir: string): Promise<{ real: string; rest: string }> {
  let rest = '';
  for (;;) {
    try {
      return { real: await realpath(dir), rest };
    } catch (err) {
      if (errnoCode(err) !== 'ENOENT' || dirname(dir) === dir) throw fsFailure('open', dir, err);
      rest = join(basename(dir), rest);
      dir = dirname(dir);
    }
  }
}

function mustBeInside(baseReal: string, real: string, shown: string, what: string): void {
  const rel = relative(baseReal, real);
  if (rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel))) return;
  throw forbidden(`${shown} leads to ${real}, outside the ${what} ${baseReal}; the supervisor reads and writes only inside it: replace the symlink with a file or point it inside`, {
    path: shown,
    target: real,
  });
}
