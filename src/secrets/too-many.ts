import { invalidInput, type SupervisorError } from '../core/errors.js';

/** How the secrets a run environment or an export would take are spread under its folder. */
export interface Spread {
  folder: string;
  /** Every secret in scope. */
  count: number;
  /** Those directly in the folder (and the secret the prefix names): no narrower prefix leaves them out. */
  direct: number;
  /** Sub-folders with their counts, biggest first. */
  folders: Array<{ folder: string; count: number }>;
}

/** Sub-folders named in the advice: enough to choose from, not a listing. */
const SHOWN = 5;

/**
 * The refusal of more secrets than `limit`, with advice that can be followed: raise the
 * limit when the caller may (`most`, the highest it takes), a narrower prefix named with
 * what it holds; and when the secrets directly in the folder are too many for any prefix,
 * that said. Field names in parentheses become the flags at the command line.
 */
export function tooManySecrets(spread: Spread, limit: number, most: number): SupervisorError {
  const { folder, count, direct, folders } = spread;
  const options: string[] = [];
  if (count <= most) options.push(`raise the limit up to ${most} (limit)`);
  if (folders.length > 0) {
    const shown = folders.slice(0, SHOWN).map((f) => `${f.folder} (${f.count})`).join(', ');
    // A folder over the limit is taken only with the limit raised: said now, not at the next refusal.
    const raise = count > most && folders.some((f) => f.count > limit && f.count <= most) ? `, raising the limit (limit) for one of more than ${limit}` : '';
    options.push(`narrow the prefix (prefix) to one of its folders: ${shown}${folders.length > SHOWN ? `, and ${folders.length - SHOWN} more` : ''}${raise}`);
  }
  const parts = [`${count} secrets under ${folder}, more than ${limit}`];
  if (options.length > 0) parts.push(options.join(', or '));
  if (direct > most) parts.push(`the ${direct} directly in ${folder} are more than ${most} whatever the prefix: move some into sub-folders, or delete those no longer used`);
  return invalidInput(parts.join('; '), { field: 'prefix', count, limit, most });
}
