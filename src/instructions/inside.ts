// Where a file the supervisor writes for a project really is. Project directories belong to
// agents and people: a CLAUDE.md (or .claude-specific/) may be a symlink, and one that leads
// out of the project (into another project, /etc, a home directory) must not be written
// through. Links that stay inside are followed, so a linked file stays a link.
import type { Stats } from 'node:fs';
import { lstat, readlink, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, sep } from 'node:path';
import { forbidden, invalidInput, notFound } from '../core/errors.js';
import { errnoCode, fsFailure } from './fs-errors.js';

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
  const baseReal = await realDirectory(base, what);
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
  throw forbidden(`${shown} leads to ${real}, outside the ${what} ${baseReal}; the supervisor writes only inside it: replace the symlink with a file or point it inside`, {
    path: shown,
    target: real,
  });
}
