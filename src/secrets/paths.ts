import { z } from 'zod';

/**
 * Secret paths: `meta/<service>/<key>`, `project/<project>/<key>`,
 * `service/<service>/<key>`, deeper levels allowed. Segments are lowercase
 * `[a-z0-9._-]` and never start with a dot, which rules out `.`, `..` and hidden names.
 */
export const ROOTS = ['meta', 'project', 'service'] as const;
const SEGMENT_TEXT = '[a-z0-9_-][a-z0-9._-]*';
const SEGMENT = new RegExp(`^${SEGMENT_TEXT}$`);
export const MAX_PATH_LENGTH = 256;
export const MAX_DEPTH = 8;

function pathProblem(path: string, { allowPrefix }: { allowPrefix: boolean }): string | undefined {
  if (path.includes('\0')) return 'must not contain NUL bytes';
  if (path.length > MAX_PATH_LENGTH) return `must be at most ${MAX_PATH_LENGTH} characters`;
  const body = allowPrefix && path.endsWith('/') ? path.slice(0, -1) : path;
  const segments = body.split('/');
  if (!ROOTS.includes(segments[0] as (typeof ROOTS)[number])) {
    const lower = segments[0]!.toLowerCase();
    if (ROOTS.includes(lower as (typeof ROOTS)[number])) return `must start with ${lower}/, in lowercase like every segment`;
    return `must start with ${ROOTS.map((r) => `${r}/`).join(', ')} (e.g. project/consilio/database_url)`;
  }
  if (segments.length > MAX_DEPTH) return `must have at most ${MAX_DEPTH} segments`;
  if (!allowPrefix && segments.length < 3) return 'needs at least three segments, like project/<project>/<key>';
  for (const segment of segments) {
    if (segment === '') return 'must not have empty segments (a//b) or a leading or trailing /';
    if (!SEGMENT.test(segment)) {
      return `segment "${segment}" is invalid: use lowercase letters, digits, ".", "_" and "-", not starting with "."`;
    }
  }
  return undefined;
}

/**
 * The rules above as a JSON Schema pattern, for OpenAPI and other schema readers (the MCP tool list
 * leaves patterns out). The check itself stays pathProblem's, whose messages say what is wrong.
 */
function pathPattern(allowPrefix: boolean): string {
  const more = allowPrefix ? `{0,${MAX_DEPTH - 1}}/?` : `{2,${MAX_DEPTH - 1}}`;
  return `^(${ROOTS.join('|')})(/${SEGMENT_TEXT})${more}$`;
}

const pathSchema = (allowPrefix: boolean, describe: string) =>
  z
    .string()
    .describe(describe)
    .meta({ pattern: pathPattern(allowPrefix), maxLength: MAX_PATH_LENGTH })
    .superRefine((value, ctx) => {
      const problem = pathProblem(value, { allowPrefix });
      if (problem) ctx.addIssue({ code: 'custom', message: problem });
    });

export const secretPath = pathSchema(false, 'Secret path, e.g. project/consilio/database_url');
export const secretPrefix = pathSchema(true, 'Path prefix, e.g. project/consilio/');

/** `project/x` and `project/x/` name the same folder. */
export const folderOf = (prefix: string): string => (prefix.endsWith('/') ? prefix : `${prefix}/`);

/** True when `path` is inside `prefix`, matching whole segments only (project/a/ does not cover project/ab/x). */
export function isUnder(path: string, prefix: string): boolean {
  return path.startsWith(folderOf(prefix)) || path === prefix.replace(/\/$/, '');
}

/**
 * The paths under a folder prefix are those `p` with `lower <= p < upper` in bytewise
 * order, the order of the secrets_path_pattern index (text_pattern_ops: `~>=~`, `~<~`).
 * Unlike `LIKE $1 || '%'`, that condition keeps the index in a generic plan (the one a
 * named statement switches to), so a prefix listing costs what is under the prefix, not
 * what is stored elsewhere.
 */
export function prefixBounds(prefix: string): { lower: string; upper: string } {
  // No path reaches U+10FFFF: paths are ASCII (see SEGMENT).
  if (prefix === '') return { lower: '', upper: '\u{10FFFF}' };
  const last = prefix.codePointAt(prefix.length - 1)!;
  return { lower: prefix, upper: prefix.slice(0, -1) + String.fromCodePoint(last + 1) };
}
