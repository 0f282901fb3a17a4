import { z } from 'zod';
import { defineOperation, DESTRUCTIVE, IDEMPOTENT_WRITE, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { projectName } from '../core/names.js';
import { pageArray, pageInput, pageOutput } from '../core/page.js';
import { pathForKey, toVariables } from './env-names.js';
import { formatEnvFile, parseEnvFile } from './envfile.js';
import { secretPath, secretPrefix } from './paths.js';

const isoDate = z.string().describe('ISO 8601 timestamp');

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

const version = z.number().int().min(1);
const ifVersion = z.number().int().min(0).optional().describe('Compare-and-set: only write if the current version is this (0 = only if the secret does not exist yet)');
const noNul = (s: string) => !s.includes('\0');
const description = z.string().max(500).refine(noNul, 'must not contain NUL bytes').nullable().optional().describe('What the secret is for');
const tags = z.array(z.string().regex(/^[a-z0-9][a-z0-9._-]{0,39}$/, 'tags are lowercase [a-z0-9._-], up to 40 characters')).max(20).optional();
const expiresAt = z.iso.datetime({ offset: true }).nullable().optional().describe('When the credential itself expires (ISO 8601); null clears it');
const rotationIntervalDays = z.number().int().min(1).max(3650).nullable().optional().describe('Remind to rotate this many days after the value last changed; null clears it');
const toDate = (value: string | null | undefined) => (value === undefined ? undefined : value === null ? null : new Date(value));

const secrets = 'secrets';
const sensitive = ['value', 'content'];

export const secretOperations = [
  defineOperation({
    name: 'get_secret',
    title: 'Get secret',
    description: 'Read the value of one secret by its exact path (e.g. project/consilio/database_url or meta/cloudflare/api_token). Use this whenever you need a credential, instead of searching files or asking the user. Every read is audited. Pass version to read an older version.',
    domain: secrets,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secret' },
    cli: { command: ['secrets', 'get'], args: ['path'] },
    input: z.object({ path: secretPath, version: version.optional().describe('An older version to read; default the current one') }),
    output: secretMeta.extend({ value: z.string(), expired: z.boolean().describe('True when expiresAt has passed: the credential may no longer work') }),
    handler: ({ services, principal }, input) => services.secrets.get(principal, input),
  }),
  defineOperation({
    name: 'set_secret',
    title: 'Set secret',
    description: 'Store a secret value at a path, creating it or adding a new version (old versions are kept). Use ifVersion for compare-and-set when several writers may race. Optional description, tags, expiry date and rotation interval. Values are text, up to 64 KiB.',
    domain: secrets,
    access: 'any',
    annotations: WRITE,
    rest: { method: 'PUT', path: '/secret' },
    cli: { command: ['secrets', 'set'], args: ['path', 'value'], stdin: 'value' },
    sensitive,
    input: z.object({ path: secretPath, value: z.string().describe('The secret value (text)'), ifVersion, description, tags, expiresAt, rotationIntervalDays }),
    output: secretMeta.extend({ created: z.boolean().describe('True when the path had no live value before') }),
    handler: ({ services, principal }, input) =>
      services.secrets.set(principal, { ...input, expiresAt: toDate(input.expiresAt), rotationIntervalDays: input.rotationIntervalDays }),
  }),
  defineOperation({
    name: 'list_secrets',
    title: 'List secrets',
    description: 'List secret paths and metadata (never values) under a prefix, sorted by path and paginated. recursive=false shows only direct children plus sub-folders. A project token sees its own project/<name>/ folder and granted paths.',
    domain: secrets,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets' },
    cli: { command: ['secrets', 'list'], args: ['prefix'] },
    input: z.object({
      prefix: secretPrefix.optional(),
      recursive: z.boolean().default(true),
      includeDeleted: z.boolean().default(false).describe('Also list soft-deleted secrets'),
      ...pageInput,
    }),
    output: z.object({ prefix: z.string(), items: z.array(secretMeta), folders: z.array(z.string()), ...pageOutput }),
    handler: ({ services, principal }, input) => services.secrets.list(principal, input),
  }),
  defineOperation({
    name: 'delete_secret',
    title: 'Delete secret',
    description: 'Soft-delete a secret: reads and lists stop seeing it, its versions are kept, and restore_secret brings it back.',
    domain: secrets,
    access: 'any',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/secret' },
    cli: { command: ['secrets', 'delete'], args: ['path'] },
    input: z.object({ path: secretPath, ifVersion }),
    output: secretMeta,
    handler: ({ services, principal }, input) => services.secrets.delete(principal, input),
  }),
  defineOperation({
    name: 'restore_secret',
    title: 'Restore secret',
    description: 'Undo delete_secret: the secret comes back with the version it had.',
    domain: secrets,
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/secret/restore' },
    cli: { command: ['secrets', 'restore'], args: ['path'] },
    input: z.object({ path: secretPath }),
    output: secretMeta,
    handler: ({ services, principal }, input) => services.secrets.restore(principal, input),
  }),
  defineOperation({
    name: 'secret_history',
    title: 'Secret history',
    description: 'List the versions of one secret, newest first (who wrote each, when, size; never values). Use before rollback_secret.',
    domain: secrets,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secret/history' },
    cli: { command: ['secrets', 'history'], args: ['path'] },
    input: z.object({ path: secretPath, ...pageInput }),
    output: z.object({
      items: z.array(z.object({ version: z.number().int(), keyId: z.number().int(), size: z.number().int(), createdAt: isoDate, createdBy: z.string(), current: z.boolean() })),
      ...pageOutput,
    }),
    handler: ({ services, principal }, input) => services.secrets.history(principal, input),
  }),
  defineOperation({
    name: 'rollback_secret',
    title: 'Roll back secret',
    description: 'Make an older version current again by writing its value as a new version (history is never rewritten).',
    domain: secrets,
    access: 'any',
    annotations: WRITE,
    rest: { method: 'POST', path: '/secret/rollback' },
    cli: { command: ['secrets', 'rollback'], args: ['path', 'toVersion'] },
    input: z.object({ path: secretPath, toVersion: version.describe('The version whose value becomes current'), ifVersion }),
    output: secretMeta,
    handler: ({ services, principal }, input) => services.secrets.rollback(principal, input),
  }),
  defineOperation({
    name: 'secrets_due',
    title: 'Secrets due',
    description: 'List secrets that are expired, expire within withinDays, or are due for rotation (metadata only). Use in health checks and before deploys.',
    domain: secrets,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets/due' },
    cli: { command: ['secrets', 'due'] },
    input: z.object({ withinDays: z.number().int().min(0).max(365).default(14), ...pageInput }),
    output: z.object({ items: z.array(secretMeta.extend({ reasons: z.array(z.enum(['expired', 'expiring', 'rotation_due'])) })), ...pageOutput }),
    handler: ({ services, principal }, input) => services.secrets.due(principal, input),
  }),
  defineOperation({
    name: 'import_secrets',
    title: 'Import secrets from .env',
    description: 'Store every KEY=value of a .env text under a prefix (KEY becomes the lower-cased last path segment) in one transaction: all or nothing. Unchanged values are left alone; overwrite=false keeps existing ones.',
    domain: secrets,
    access: 'any',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/secrets/import' },
    cli: { command: ['secrets', 'import'], args: ['content'], stdin: 'content', files: ['content'] },
    sensitive,
    input: z.object({
      prefix: secretPrefix.describe('Folder to import into, e.g. project/consilio/'),
      content: z.string().max(4 * 1024 * 1024).describe('The .env file text'),
      overwrite: z.boolean().default(true),
    }),
    output: z.object({ prefix: z.string(), created: z.array(z.string()), updated: z.array(z.string()), unchanged: z.array(z.string()), skipped: z.array(z.string()) }),
    handler: async ({ services, principal }, input) => {
      const entries = parseEnvFile(input.content);
      const seen = new Map<string, string>();
      for (const e of entries) {
        // Keys differing only in case land on one path (paths are lower-case).
        const earlier = seen.get(e.key.toLowerCase());
        if (earlier) throw invalidInput(`content: line ${e.line}: ${e.key} is set twice${earlier === e.key ? '' : ` (also as ${earlier})`}; keep one`, { field: 'content', line: e.line });
        if (e.value === '') throw invalidInput(`content: line ${e.line}: ${e.key} has an empty value; secrets cannot be empty — remove the line or give it a value`, { field: 'content', line: e.line });
        seen.set(e.key.toLowerCase(), e.key);
      }
      const paths = entries.map((e) => ({ path: pathForKey(input.prefix, e.key), value: e.value }));
      const result = await services.secrets.importMany(principal, input.prefix, paths, input.overwrite);
      return { prefix: input.prefix, ...result };
    },
  }),
  defineOperation({
    name: 'export_secrets',
    title: 'Export secrets as .env',
    description: 'Read every secret under a prefix (recursive) as environment variables: NAME is the upper-cased last path segment. Returns .env text and the variables. Each read is audited. Two paths giving one NAME is an error.',
    domain: secrets,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/secrets/export' },
    cli: { command: ['secrets', 'export'], args: ['prefix'], print: 'content' },
    input: z.object({ prefix: secretPrefix, limit: z.number().int().min(1).max(500).default(200).describe('Refuse when more secrets than this are under the prefix') }),
    output: z.object({ prefix: z.string(), count: z.number().int(), variables: z.array(z.object({ name: z.string(), path: z.string(), value: z.string() })), content: z.string() }),
    handler: async ({ services, principal }, input) => {
      const variables = toVariables(await services.secrets.readMany(principal, input.prefix, input.limit));
      const content = formatEnvFile(variables.map((v) => ({ key: v.name, value: v.value })), `exported from ${input.prefix}`);
      return { prefix: input.prefix, count: variables.length, variables, content };
    },
  }),
  defineOperation({
    name: 'grant_secret_access',
    title: 'Grant secret access',
    description: 'Let a project read (or read and write) secrets under a prefix outside its own project/<name>/ folder, e.g. service/penpot/. Admin only.',
    domain: secrets,
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/secret-grants' },
    cli: { command: ['secrets', 'grant'], args: ['project', 'prefix'] },
    input: z.object({ project: projectName, prefix: secretPrefix, access: z.enum(['read', 'write']).default('read') }),
    output: z.object({ project: z.string(), prefix: z.string(), access: z.enum(['read', 'write']) }),
    handler: ({ services, principal }, input) => services.secrets.grant(principal.actor, input),
  }),
  defineOperation({
    name: 'revoke_secret_access',
    title: 'Revoke secret access',
    description: 'Remove a grant made with grant_secret_access. Admin only.',
    domain: secrets,
    access: 'admin',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/secret-grants' },
    cli: { command: ['secrets', 'revoke'], args: ['project', 'prefix'] },
    input: z.object({ project: projectName, prefix: secretPrefix }),
    output: z.object({ removed: z.boolean() }),
    handler: ({ services, principal }, input) => services.secrets.revokeGrant(principal.actor, input),
  }),
  defineOperation({
    name: 'list_secret_grants',
    title: 'List secret grants',
    description: 'List which projects may use which secret prefixes beyond their own folder. Admin only.',
    domain: secrets,
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/secret-grants' },
    cli: { command: ['secrets', 'grants'], args: ['project'] },
    input: z.object({ project: projectName.optional(), ...pageInput }),
    output: z.object({ items: z.array(z.object({ project: z.string(), prefix: z.string(), access: z.enum(['read', 'write']) })), ...pageOutput }),
    handler: async ({ services }, input) => pageArray(await services.secrets.listGrants(input.project), input, (g) => `${g.project}/${g.prefix}`),
  }),
];
