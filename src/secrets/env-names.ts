import { conflict, invalidInput } from '../core/errors.js';
import { folderOf, secretPath } from './paths.js';

/** `project/consilio/database_url` → `DATABASE_URL`: the last segment, upper-cased, made a valid variable name. */
export function envNameFor(path: string): string {
  const last = path.slice(path.lastIndexOf('/') + 1);
  const name = last.toUpperCase().replace(/[^A-Z0-9_]/g, '_');
  return /^[0-9]/.test(name) ? `_${name}` : name;
}

/** `DATABASE_URL` under `project/consilio/` → `project/consilio/database_url`. */
export function pathForKey(prefix: string, key: string): string {
  const path = `${folderOf(prefix)}${key.toLowerCase()}`;
  const checked = secretPath.safeParse(path);
  if (!checked.success) throw invalidInput(`key ${key} does not make a valid secret path under ${prefix}: ${checked.error.issues[0]?.message}`, { field: 'content' });
  return path;
}

/** Environment variables for secrets; two paths that give the same name are an error, never a silent overwrite. */
export function toVariables(secrets: Array<{ path: string; value: string }>): Array<{ name: string; path: string; value: string }> {
  const seen = new Map<string, string>();
  return secrets.map(({ path, value }) => {
    const name = envNameFor(path);
    const other = seen.get(name);
    if (other) throw conflict(`${other} and ${path} both become the variable ${name}; rename one of them or narrow the prefix`, { name, paths: [other, path] });
    seen.set(name, path);
    return { name, path, value };
  });
}
