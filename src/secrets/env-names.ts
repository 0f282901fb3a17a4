import { conflict, invalidInput } from '../core/errors.js';
import { commentLines } from './envfile.js';
import { folderOf, secretPath } from './paths.js';

/** `project/consilio/database_url` → `DATABASE_URL`: the last segment, upper-cased, made a valid variable name. */
export function envNameFor(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const name = last.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** The path a key lands at under `prefix`, unchecked. */
const joinKey = (prefix: string, key: string, mapped?: ReadonlyMap<string, string>): string => `${folderOf(prefix)}${mapped?.get(key) ?? key.toLowerCase()}`;

/**
 * `DATABASE_URL` under `project/consilio/` → `project/consilio/database_url`; a key an export
 * mapped in a `# supervisor-path` comment (`mapped`) → the path it came from. Under a prefix
 * without the trailing slash, the variable that prefix exports as (`DATABASE_URL` under
 * `project/consilio/database_url`) is that secret: an export of one secret imports back to it,
 * not to `…/database_url/database_url`.
 */
export function pathForKey(prefix: string, key: string, mapped?: ReadonlyMap<string, string>): string {
  const namesPrefix = !prefix.endsWith('/') && !mapped?.has(key) && envNameFor(prefix) === key;
  const path = namesPrefix ? prefix : joinKey(prefix, key, mapped);
  const checked = secretPath.safeParse(path);
  if (!checked.success) throw invalidInput(`key ${key} does not make a valid secret path under ${prefix}: ${checked.error.issues[0]?.message}`, { field: 'content' });
  return path;
}

/** The comment an export writes for a variable whose name does not lead back to its path (stripe-key, nested/smtp_password). */
const PATH_COMMENT = /^#[ \t]*supervisor-path[ \t]+([A-Za-z_][A-Za-z0-9_.-]*)[ \t]+(\S+)[ \t]*$/;

/**
 * Header lines (comments, so dotenv and every other reader skip them) that let an import put each
 * variable back at the path it was exported from: STRIPE_KEY from `stripe-key` came back as
 * `stripe_key`, beside the original, and a nested path came back one level up.
 */
export function pathComments(prefix: string, variables: ReadonlyArray<{ name: string; path: string }>): string[] {
  const folder = folderOf(prefix);
  // The secret the prefix itself names (project/x/key exported as KEY) has no path below the prefix to give.
  return variables.filter((v) => v.path.startsWith(folder) && joinKey(prefix, v.name) !== v.path).map((v) => `supervisor-path ${v.name} ${v.path.slice(folder.length)}`);
}

/**
 * The paths (relative to the imported prefix) that `# supervisor-path` comments give keys. Only
 * real comment lines count: export writes multi-line values raw, so a line inside one may look
 * like a mapping and would otherwise move another secret.
 */
export function pathsFromComments(text: string): Map<string, string> {
  return new Map(commentLines(text).flatMap((line) => {
    const m = PATH_COMMENT.exec(line);
    return m ? [[m[1]!, m[2]!] as const] : [];
  }));
}

/** Environment variable names for secret paths; two paths that give the same name are an error, never a silent overwrite. */
export function variableNames(paths: readonly string[]): Array<{ name: string; path: string }> {
  const seen = new Map<string, string>();
  return paths.map((path) => {
    const name = envNameFor(path);
    const other = seen.get(name);
    if (other) throw conflict(`${other} and ${path} both become the variable ${name}; rename one of them or narrow the prefix`, { name, paths: [other, path] });
    seen.set(name, path);
    return { name, path };
  });
}

/** Environment variables for secrets (names as variableNames gives them). */
export const toVariables = <S extends { path: string }>(secrets: readonly S[]): Array<S & { name: string }> => secrets.map((s) => ({ ...s, name: envNameFor(s.path) }));
