import { join } from 'node:path';
import { createFileExclusive } from '../core/files.js';
import { describingFsErrors } from '../core/fs-errors.js';

/** Attempts before giving up; only reached if something keeps creating files with our names. */
const MAX_ATTEMPTS = 100;

/**
 * Creates `<stem><ext>` in `dir`, or `<stem>_002<ext>`, `<stem>_003<ext>`… when taken: a backup or
 * an adopted edit never replaces an earlier one. "_" sorts after the "." of `<stem><ext>` (where
 * "-" sorted before), and the number is padded (`_10` sorted before `_2`), so the files sort in
 * the order they were made, as layers are assembled. Returns the path written.
 */
export async function createUniqueFile(dir: string, stem: string, ext: string, data: string, mode: number): Promise<string> {
  for (let n = 1; n <= MAX_ATTEMPTS; n++) {
    const path = join(dir, `${stem}${n === 1 ? '' : `_${String(n).padStart(3, '0')}`}${ext}`);
    if (await describingFsErrors('create', path, () => createFileExclusive(path, data, mode))) return path;
  }
  throw new Error(`${join(dir, stem)}…${ext}: ${MAX_ATTEMPTS} names taken; remove old ones`);
}
