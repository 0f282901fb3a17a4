import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { linesPhrase } from '../core/lines-phrase.js';
import { projectName } from '../core/names.js';
import { pageArray, pageInput, pageOutput } from '../core/page.js';
import { envNameFor, pathComments, pathForKey, pathsFromComments, toVariables, variableNames } from './env-names.js';
import { formatEnvFile, parseEnvFile, unreadLines } from './envfile.js';
import { expiredAmong, isProtected } from './run-env.js';
import { serviceName } from '../ports/index.js';
import { secretPath, secretPrefix } from './paths.js';
import type { SecretsService } from './service.js';

const isoDate = z.string().describe('ISO 8601 timestamp');
/** Secrets handed out whose expiresAt has passed, so a caller starting a service hears of it (get_secret says `expired`). */
const expired = z
  .array(z.object({ name: z.string(), path: z.string(), expiresAt: isoDate }))
  .describe('Secrets among these whose expiresAt has passed: the credentials may no longer work; set a new value with a new expiresAt (or null)');

const secretMeta = z.object({
  path: z.string(),
  version: z.number().int(),
  description: z.string().nullable(),
  tags: z.array(z.string()),
  expiresAt: isoDate.nullable(),
  rotationIntervalDays: z.number().int().nullable(),
  valueChangedAt: isoDate,
  createdAt: isoDate,
  updatedAt: isoDate,
  deletedAt: isoDate.nullable(),
  lastReadAt: isoDate.nullable(),
  readCount: z.number().int(),
});

/** Versions are stored as 32-bit integers: a larger number is no version, not a database error. */
/** The most secrets one export gives (its limit goes up to this). */
const MAX_EXPORT = 500;
/**
 * The most variables one import stores. The import is one transaction, and on the embedded
 * database every other request waits for it: 50,000 lines held the daemon for minutes.
 */
const MAX_IMPORT = 500;
const MAX_VERSION = 2_147_483_647;
const version = z.number().int().min(1).max(MAX_VERSION);
const ifVersion = z.number().int().min(0).max(MAX_VERSION).optional().describe('Write only if the current version is this (0 = new)');
const noNul = (s: string) => !s.includes('\0');
const description = z.string().max(500).refine(noNul, 'must not contain NUL bytes').nullable().optional().describe('What the secret is for');
const tags = z
  .array(
    z
      .string()
      .regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'tags are lowercase [a-z0-9._-], up to 40 characters')
      // `--tags null` reads as "clear" elsewhere in the CLI (fields that take null); tags clear with [] (`--tags ''`).
      .refine((t) => t !== 'null', "null is not a tag; an empty list ([], --tags '') clears the tags"),
  )
  .max(20)
  .refine((t) => new Set(t).size === t.length, 'each tag once')
  .optional()
  .describe('Labels shown in list_secrets, e.g. db, prod');
/** Shaped as a time with an offset, yet refused: a day or hour that does not exist (2030-02-29, 25:00). */
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i;
const expiresAt = z.iso
  .datetime({
    offset: true,
    error: (issue) => {
      const text = typeof issue.input === 'string' ? issue.input : '';
      if (WITH_OFFSET.test(text)) return 'is not a time on the calendar (a day or hour that does not exist)';
      // The CLI reads a date alone as midnight UTC; over the API the time is said, so it is never a guess.
      if (/^\d{4}-\d{2}-\d{2}$/.test(text)) return `expected a time with its offset, not a date alone: ${text}T00:00:00Z for midnight UTC`;
      return 'expected an ISO 8601 time with its offset, e.g. 2030-01-01T00:00:00Z';
    },
  }).nullable().optional().describe('When the credential expires (in the future); null clears. A new value without one drops a passed expiry');
const rotationIntervalDays = z.number().int().min(1).max(3650).nullable().optional().describe('Rotate this many days after a change; null clears');
const toDate = (value: string | null | undefined) => (value === undefined ? undefined : value === null ? null : new Date(value));

const sensitive = ['value', 'content'];

const operation = operationsOf<SecretsService>('secrets');

export const secretOperations = [
  operation({
    name: 'get_secret',
    title: 'Get secret',
    description: "Read a secret's value by exact path. Use it whenever you need a credential instead of searching files or asking. Audited.",
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secret' },
    cli: { command: ['secrets', 'get'], args: ['path'] },
    input: z.object({ path: secretPath, version: version.optional().describe('An older version') }),
    output: secretMeta.extend({ value: z.string(), expired: z.boolean().describe('True when expiresAt has passed: the credential may no longer work') }),
    handler: ({ svc, principal }, input) => svc.get(principal, input),
  }),
  operation({
    name: 'set_secret',
    title: 'Set secret',
    description: 'Store a secret (a new version; old ones are kept). ifVersion = compare-and-set.',
    access: 'any',
    annotations: WRITE,
    rest: { method: 'PUT', path: '/secret' },
    cli: { command: ['secrets', 'set'], args: ['path'], stdin: 'value' },
    sensitive,
    input: z.object({ path: secretPath, value: z.string().describe('The secret value, as text'), ifVersion, description, tags, expiresAt, rotationIntervalDays }),
    output: secretMeta.extend({ created: z.boolean().describe('True when the path had no live value before') }),
    handler: ({ svc, principal }, input) =>
      svc.set(principal, { ...input, expiresAt: toDate(input.expiresAt), rotationIntervalDays: input.rotationIntervalDays }),
  }),
  operation({
    name: 'list_secrets',
    title: 'List secrets',
    description: 'List secret paths and metadata (never values) under a prefix.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets' },
    cli: { command: ['secrets', 'list'], args: ['prefix'], columns: ['path', 'version', 'tags', 'updatedAt', 'expiresAt'], columnsUnless: { deletedAt: null } },
    input: z.object({
      prefix: secretPrefix.optional(),
      recursive: z.boolean().default(true).describe('Include sub-folders'),
      includeDeleted: z.boolean().default(false).describe('Also list soft-deleted secrets'),
      ...pageInput,
    }),
    output: z.object({ prefix: z.string(), items: z.array(secretMeta), folders: z.array(z.string()), ...pageOutput }),
    handler: ({ svc, principal }, input) => svc.list(principal, input),
  }),
  operation({
    name: 'delete_secret',
    title: 'Delete secret',
    description: 'Soft-delete a secret; restore_secret brings it back.',
    access: 'any',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/secret' },
    cli: { command: ['secrets', 'delete'], args: ['path'] },
    input: z.object({ path: secretPath, ifVersion }),
    output: secretMeta,
    handler: ({ svc, principal }, input) => svc.delete(principal, input),
  }),
  operation({
    name: 'restore_secret',
    title: 'Restore secret',
    description: 'Undo delete_secret.',
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/secret/restore' },
    cli: { command: ['secrets', 'restore'], args: ['path'] },
    input: z.object({ path: secretPath }),
    output: secretMeta,
    handler: ({ svc, principal }, input) => svc.restore(principal, input),
  }),
  operation({
    name: 'get_secret_history',
    title: 'Secret history',
    description: 'Versions of a secret, newest first (who, when, size; never values).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secret/history' },
    cli: { command: ['secrets', 'history'], args: ['path'], columns: ['version', 'size', 'createdAt', 'createdBy', 'current'] },
    input: z.object({ path: secretPath, ...pageInput }),
    output: z.object({
      items: z.array(z.object({ version: z.number().int(), keyId: z.number().int(), size: z.number().int(), createdAt: isoDate, createdBy: z.string(), current: z.boolean() })),
      deletedAt: isoDate.nullable().describe('When the secret was deleted (its current version is what restore_secret brings back); null while it is live'),
      ...pageOutput,
    }),
    handler: ({ svc, principal }, input) => svc.history(principal, input),
  }),
  operation({
    name: 'rollback_secret',
    title: 'Roll back secret',
    description: 'Make an older version current again (as a new version).',
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/secret/rollback' },
    cli: { command: ['secrets', 'rollback'], args: ['path', 'toVersion'] },
    input: z.object({ path: secretPath, toVersion: version.describe('The version whose value becomes current'), ifVersion }),
    output: secretMeta,
    handler: ({ svc, principal }, input) => svc.rollback(principal, input),
  }),
  operation({
    name: 'list_due_secrets',
    title: 'Secrets due',
    description: 'Secrets expired, expiring within withinDays, or due for rotation: each with its nearest deadline (dueAt), days left and state (overdue or due_soon).',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets/due' },
    cli: { command: ['secrets', 'due'], columns: ['path', 'state', 'dueAt', 'reasons', 'expiresAt', 'rotateBy'] },
    input: z.object({ withinDays: z.number().int().min(0).max(365).default(14).describe('Look ahead this many days'), ...pageInput }),
    output: z.object({
      items: z.array(secretMeta.extend({
        reasons: z.array(z.enum(['expired', 'expiring', 'rotation_overdue', 'rotation_due'])).describe('expired and rotation_overdue: the deadline has passed; expiring and rotation_due: it falls within withinDays'),
        state: z.enum(['overdue', 'due_soon']).describe('overdue: a deadline has passed (act now); due_soon: one falls within withinDays'),
        dueAt: isoDate.describe('The nearest deadline: expiry or rotation, whichever comes first'),
        daysLeft: z.number().int().describe('Whole days from now to dueAt, rounded down: 0 within a day, negative once passed'),
        rotateBy: isoDate.nullable().describe('When the value should be rotated (valueChangedAt + rotationIntervalDays); null without a rotation interval'),
      })),
      ...pageOutput,
    }),
    handler: ({ svc, principal }, input) => svc.due(principal, input),
  }),
  operation({
    name: 'import_secrets',
    title: 'Import secrets from .env',
    description: 'Store each KEY=value of .env text (as dotenv reads it) under a prefix, key lower-cased; all or nothing; empty values skipped. A secret\'s path as prefix takes back its variable.',
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/secrets/import' },
    cli: { command: ['secrets', 'import'], args: ['content'], stdin: 'content', files: ['content'] },
    sensitive,
    input: z.object({
      prefix: secretPrefix.describe('Folder to import into, e.g. project/consilio/'),
      content: z.string().max(4 * 1024 * 1024).describe('The .env file text'),
      overwrite: z.boolean().default(true).describe('Replace existing values'),
    }),
    output: z.object({
      prefix: z.string(),
      created: z.array(z.string()),
      updated: z.array(z.string()),
      unchanged: z.array(z.string()),
      skipped: z.array(z.string()).describe('Paths not written: they exist and overwrite is false, or the value is empty'),
      empty: z.array(z.string()).describe('Keys with an empty value (skipped: secrets cannot be empty)'),
      warnings: z.array(z.string()).describe('Lines dotenv skips, keys that come back renamed, and variables get_run_env refuses unless allowed (PATH…)'),
    }),
    handler: async ({ svc, principal }, input) => {
      const entries = parseEnvFile(input.content);
      if (entries.length === 0 && /^[ \t]*[^\s#]/m.test(input.content)) {
        throw invalidInput('content: no KEY=value line that dotenv reads; nothing to import', { field: 'content' });
      }
      if (entries.length > MAX_IMPORT) {
        throw invalidInput(`content: ${entries.length} variables; one import stores at most ${MAX_IMPORT} (as one export gives at most ${MAX_EXPORT}): split the file`, { field: 'content' });
      }
      const seen = new Map<string, string>();
      for (const e of entries) {
        // Keys differing only in case land on one path (paths are lower-case).
        const earlier = seen.get(e.key.toLowerCase());
        if (earlier) throw invalidInput(`content: ${earlier} and ${e.key} are the same secret (keys are lower-cased into paths); keep one`, { field: 'content', keys: [earlier, e.key] });
        seen.set(e.key.toLowerCase(), e.key);
      }
      const mapped = pathsFromComments(input.content);
      const located = entries.map((e) => ({ ...e, path: pathForKey(input.prefix, e.key, mapped) }));
      const keyAt = new Map<string, string>();
      for (const e of located) {
        // Two `# supervisor-path` comments (or one and a plain key) naming one path: both would write it, one as an update of the other.
        const earlier = keyAt.get(e.path);
        if (earlier) throw invalidInput(`content: ${earlier} and ${e.key} are the same secret (a # supervisor-path comment maps them both to ${e.path}); keep one`, { field: 'content', keys: [earlier, e.key] });
        keyAt.set(e.path, e.key);
      }
      const empty = located.filter((e) => e.value === '');
      const paths = located.filter((e) => e.value !== '').map((e) => ({ path: e.path, value: e.value }));
      const result = await svc.importMany(principal, input.prefix, paths, input.overwrite);
      const emptyPaths = empty.map((e) => e.path);
      // Written as asked, but said now: the project's next `supervisor run` would be refused for them.
      const protectedNames = paths
        .map((p) => ({ path: p.path, name: envNameFor(p.path) }))
        .filter((v) => isProtected(v.name))
        .map((v) => `${v.path} becomes ${v.name}, which get_run_env and supervisor run refuse to set unless allowed (allow ${v.name}); rename the key if it is not meant to replace it`);
      // Paths are lower-case and variables [A-Z0-9_]: MiXeD, DOT.NAME or 1ST would come back as MIXED, DOT_NAME, _1ST.
      const renamed = paths
        .map((p) => ({ key: keyAt.get(p.path)!, path: p.path, name: envNameFor(p.path) }))
        .filter((v) => v.name !== v.key)
        .map((v) => `${v.key} is stored at ${v.path}, which get_run_env, supervisor run and export_secrets give as ${v.name}`);
      // Skipped as dotenv skips them, but never in silence: a key with a space or no `=` is a secret lost.
      const unread = unreadLines(input.content);
      const warnings = [
        ...(unread.length > 0 ? [`${linesPhrase(unread)}: not KEY=value as dotenv reads it (a space in the key, no =?), so not imported`] : []),
        ...renamed,
        ...protectedNames,
      ];
      return { prefix: input.prefix, ...result, skipped: [...result.skipped, ...emptyPaths], empty: empty.map((e) => e.key), warnings };
    },
  }),
  operation({
    name: 'export_secrets',
    title: 'Export secrets as .env',
    description: 'Secrets under a prefix as .env text (NAME = upper-cased last path segment), quoted so dotenv reads every value back exactly; one it cannot hold is left out, listed in refused. Audited.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets/export' },
    cli: { command: ['secrets', 'export'], args: ['prefix'], print: 'content' },
    input: z.object({ prefix: secretPrefix, limit: z.number().int().min(1).max(MAX_EXPORT).default(200).describe('Refuse above this many secrets') }),
    output: z.object({
      prefix: z.string(),
      count: z.number().int(),
      variables: z.array(z.object({ name: z.string(), path: z.string(), value: z.string() })),
      content: z.string(),
      refused: z.array(z.object({ name: z.string(), path: z.string(), reason: z.string() })).describe('Secrets left out of content because dotenv could not read their value back exactly (they are still in variables)'),
      expired,
    }),
    handler: async ({ svc, principal }, input) => {
      const secrets = toVariables(await svc.readMany(principal, input.prefix, input.limit, (paths) => void variableNames(paths), MAX_EXPORT));
      const variables = secrets.map((s) => ({ name: s.name, path: s.path, value: s.value }));
      const lapsed = expiredAmong(secrets);
      const warnings = lapsed.map((e) => `${e.name} expired at ${e.expiresAt.toISOString()}: the credential may no longer work`);
      // An empty export is answered, but said: a prefix with a typo in it looks like a folder with nothing in it.
      if (variables.length === 0) warnings.push(`no secret under ${input.prefix} that this token may read: nothing exported`);
      const header = [`exported from ${input.prefix}`, ...warnings, ...pathComments(input.prefix, variables)].join('\n');
      const { content, refused } = formatEnvFile(variables.map((v) => ({ key: v.name, value: v.value })), header);
      const pathOf = new Map(variables.map((v) => [v.name, v.path]));
      return { prefix: input.prefix, count: variables.length, variables, content, refused: refused.map((r) => ({ name: r.key, path: pathOf.get(r.key) ?? '', reason: r.reason })), expired: lapsed };
    },
  }),
  operation({
    name: 'grant_secret_access',
    title: 'Grant secret access',
    description: 'Let a project read (or write) secrets under a prefix outside its folder.',
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/secret-grants' },
    cli: { command: ['secrets', 'grant'], args: ['project', 'prefix'] },
    input: z.object({ project: projectName.describe('Project that gets access'), prefix: secretPrefix, access: z.enum(['read', 'write']).default('read').describe('read, or write (includes read)') }),
    output: z.object({
      project: z.string(),
      prefix: z.string(),
      access: z.enum(['read', 'write']),
      previous: z.enum(['read', 'write']).nullable().describe('The access it had before (null: a new grant)'),
      note: z.string().optional(),
    }),
    handler: ({ svc, principal }, input) => svc.grant(principal.actor, input),
  }),
  operation({
    name: 'revoke_secret_access',
    title: 'Revoke secret access',
    description: 'Remove a grant_secret_access grant.',
    access: 'admin',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/secret-grants' },
    cli: { command: ['secrets', 'revoke'], args: ['project', 'prefix'] },
    input: z.object({ project: projectName.describe('Project whose grant is removed'), prefix: secretPrefix }),
    output: z.object({ removed: z.boolean() }),
    handler: ({ svc, principal }, input) => svc.revokeGrant(principal.actor, input),
  }),
  operation({
    name: 'list_secret_grants',
    title: 'List secret grants',
    description: 'List secret grants.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/secret-grants' },
    cli: { command: ['secrets', 'grants'], args: ['project'] },
    input: z.object({ project: projectName.optional().describe("Only this project's grants"), ...pageInput }),
    output: z.object({ items: z.array(z.object({ project: z.string(), prefix: z.string(), access: z.enum(['read', 'write']) })), ...pageOutput }),
    handler: async ({ svc }, input) => pageArray(await svc.listGrants(input.project), input, (g) => `${g.project}/${g.prefix}`),
  }),
  operation({
    name: 'get_run_env',
    title: 'Get run environment',
    description: "The variables `supervisor run` gives a project's command: its secrets and ports. Secrets never set PATH, LD_*, NODE_OPTIONS… unless allowed.",
    access: 'any',
    // Not read-only: with service it reserves that service's port (get_port), which a read-only session must not do.
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'GET', path: '/run-env' },
    cli: { command: ['secrets', 'env'], args: ['project'] },
    input: z.object({
      project: projectName.describe('Project whose command runs'),
      service: serviceName.optional().describe('Service being started: adds PORT and <SERVICE>_PORT, reserving a new port (as get_port)'),
      prefix: secretPrefix.optional().describe('Secrets folder; default project/<project>/ (meta: meta/)'),
      allow: z.array(z.string().regex(/^[A-Z_][A-Z0-9_]*$/, 'a variable name such as PATH')).max(50).default([]).describe('Protected variables the secrets may set'),
    }),
    output: z.object({
      project: z.string(),
      variables: z.array(z.object({ name: z.string(), value: z.string(), source: z.enum(['secret', 'port']), path: z.string().nullable().describe('The secret it comes from') })),
      expired,
    }),
    handler: async ({ svc, principal }, input) => ({ project: input.project, ...(await svc.runEnv(principal, input)) }),
  }),
];
