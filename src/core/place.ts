import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';

/**
 * Where a folder really is, links resolved. A lock or daemon file records it, so the same file in a
 * copy of the data dir (a backup restored beside the original) is not taken for the original's: its
 * holder is alive, but holds the other folder.
 */
export const placeOf = (dir: string): Promise<string> => realpath(dir).catch(() => resolve(dir));
