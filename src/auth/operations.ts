import { z } from 'zod';
import { defineOperation, DESTRUCTIVE, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { projectName } from '../core/names.js';
import { pageArray, pageInput, pageNewestFirst, pageOutput } from '../core/page.js';
import { scopeOf } from '../core/principal.js';

const isoDate = z.string().describe('ISO 8601 timestamp');
const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  project: z.string().nullable().describe('null for admin tokens'),
  createdAt: isoDate,
  lastUsedAt: isoDate.nullable(),
  revokedAt: isoDate.nullable(),
});

const auth = 'auth';

export const authOperations = [
  defineOperation({
    name: 'create_token',
    title: 'Create API token',
    description: 'Create a bearer token for one project (its MCP server /mcp/<project> and its secrets) or, with admin=true, an admin token. The token is shown once in the answer; store it now.',
    domain: auth,
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/tokens' },
    cli: { command: ['token', 'create'], args: ['name'] },
    input: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/, 'a token name is 1-64 letters, digits, space, . _ @ -').default('cli'),
      project: projectName.optional().describe('Project the token is for'),
      admin: z.boolean().default(false).describe('Create an admin token instead of a project token'),
    }),
    output: tokenInfo.extend({ token: z.string().describe('The bearer token; shown only now') }),
    handler: async ({ services }, input) => {
      if (input.admin === (input.project !== undefined)) {
        throw invalidInput('give exactly one of project (a project token) or admin=true (an admin token)', { fields: ['project', 'admin'] });
      }
      return services.tokens.create({ name: input.name, project: input.project ?? null });
    },
  }),
  defineOperation({
    name: 'list_tokens',
    title: 'List API tokens',
    description: 'List tokens (never their secrets): id, name, project, last use. Admin only.',
    domain: auth,
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/tokens' },
    cli: { command: ['token', 'list'] },
    input: z.object({ project: projectName.optional(), includeRevoked: z.boolean().default(false), ...pageInput }),
    output: z.object({ items: z.array(tokenInfo), ...pageOutput }),
    handler: async ({ services }, input) => pageArray(await services.tokens.list(input), input, (t) => `${t.createdAt.toISOString()}/${t.id}`),
  }),
  defineOperation({
    name: 'revoke_token',
    title: 'Revoke API token',
    description: 'Revoke a token by id; it stops working at once on this daemon. Admin only.',
    domain: auth,
    access: 'admin',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/tokens' },
    cli: { command: ['token', 'revoke'], args: ['id'] },
    input: z.object({ id: z.string().regex(/^[a-f0-9]{12}$/, 'a token id is 12 hex digits (see list_tokens)') }),
    output: tokenInfo,
    handler: ({ services }, input) => services.tokens.revoke(input.id),
  }),
  defineOperation({
    name: 'whoami',
    title: 'Who am I',
    description: 'Tell which identity and scope this connection has: admin, or the one project it may act for.',
    domain: auth,
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/whoami' },
    cli: { command: ['token', 'whoami'] },
    input: z.object({}),
    output: z.object({ role: z.enum(['admin', 'project']), project: z.string(), actor: z.string() }),
    handler: async ({ principal }) => ({ role: principal.role, project: scopeOf(principal), actor: principal.actor }),
  }),
  defineOperation({
    name: 'list_audit',
    title: 'List audit log',
    description: 'Recent audit entries, newest first: who read or wrote which secret, denials, token use. Filter by target path, actor or action prefix (e.g. secret.read). Admin only.',
    domain: auth,
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/audit' },
    cli: { command: ['audit', 'list'], args: ['target'] },
    input: z.object({ target: z.string().max(256).optional(), actor: z.string().max(200).optional(), action: z.string().max(100).optional(), ...pageInput }),
    output: z.object({
      items: z.array(z.object({ id: z.number().int(), at: isoDate, actor: z.string(), action: z.string(), target: z.string().nullable(), outcome: z.enum(['ok', 'denied', 'error']), detail: z.record(z.string(), z.unknown()) })),
      ...pageOutput,
    }),
    handler: ({ services }, input) => pageNewestFirst(input, (before, limit) => services.audit.list({ ...input, before, limit })),
  }),
];
