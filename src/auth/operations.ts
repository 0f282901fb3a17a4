import { z } from 'zod';
import { DESTRUCTIVE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { projectName } from '../core/names.js';
import { pageArray, pageInput, pageNewestFirst, pageOutput } from '../core/page.js';
import { scopeOf } from '../core/principal.js';
import type { AuthService } from './service.js';

const isoDate = z.string().describe('ISO 8601 timestamp');
const tokenInfo = z.object({
  id: z.string(),
  name: z.string(),
  project: z.string().nullable().describe('null for admin tokens'),
  createdAt: isoDate,
  lastUsedAt: isoDate.nullable(),
  revokedAt: isoDate.nullable(),
});


const operation = operationsOf<AuthService>('auth');

export const authOperations = [
  operation({
    name: 'create_token',
    title: 'Create API token',
    description: 'Create a bearer token for one project, or with admin=true an admin token. Shown once.',
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/tokens' },
    cli: { command: ['token', 'create'], args: ['name'], exactlyOne: ['project', 'admin'] },
    input: z.object({
      name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$/, 'a token name is 1-64 letters, digits, space, . _ @ -').default('cli').describe('A name to recognise the token by in list_tokens and the audit log'),
      project: projectName.optional().describe('Project the token is for'),
      admin: z.boolean().default(false).describe('Create an admin token instead of a project token'),
    }),
    output: tokenInfo.extend({ token: z.string().describe('The bearer token; shown only now') }),
    handler: async ({ svc, principal }, input) => {
      if (input.admin === (input.project !== undefined)) {
        throw invalidInput('give exactly one of project (a project token) or admin=true (an admin token)', { fields: ['project', 'admin'] });
      }
      return svc.tokens.create({ name: input.name, project: input.project ?? null }, principal.actor, svc.projects);
    },
  }),
  operation({
    name: 'list_tokens',
    title: 'List API tokens',
    description: 'List tokens (never their secrets).',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/tokens' },
    cli: { command: ['token', 'list'], columns: ['id', 'name', 'project', 'lastUsedAt', 'revokedAt'] },
    input: z.object({ project: projectName.optional().describe("Only this project's tokens"), includeRevoked: z.boolean().default(false).describe('Also list revoked tokens'), ...pageInput }),
    output: z.object({ items: z.array(tokenInfo), ...pageOutput }),
    handler: async ({ svc }, input) => pageArray(await svc.tokens.list(input), input, (t) => `${t.createdAt.toISOString()}/${t.id}`),
  }),
  operation({
    name: 'revoke_token',
    title: 'Revoke API token',
    description: 'Revoke a token by id.',
    access: 'admin',
    annotations: { ...DESTRUCTIVE, idempotentHint: true },
    rest: { method: 'DELETE', path: '/tokens' },
    cli: { command: ['token', 'revoke'], args: ['id'] },
    input: z.object({ id: z.string().regex(/^[a-f0-9]{12}$/, 'a token id is 12 hex digits (see list_tokens)').describe('Token id from list_tokens (12 hex digits)') }),
    output: tokenInfo,
    handler: ({ svc, principal }, input) => svc.tokens.revoke(input.id, principal.actor),
  }),
  operation({
    name: 'get_identity',
    title: 'Who am I',
    description: 'Which identity and scope this connection has: admin, or one project.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/whoami' },
    cli: { command: ['token', 'whoami'] },
    input: z.object({}),
    output: z.object({ role: z.enum(['admin', 'project']), project: z.string(), actor: z.string() }),
    handler: async ({ principal }) => ({ role: principal.role, project: scopeOf(principal), actor: principal.actor }),
  }),
  operation({
    name: 'list_audit',
    title: 'List audit log',
    description: 'Audit entries, newest first: who read or wrote what, denials.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/audit' },
    cli: { command: ['audit', 'list'], args: ['target'], columns: ['at', 'actor', 'action', 'target', 'outcome'] },
    input: z.object({
      target: z.string().max(256).optional().describe('Exact target, e.g. a secret path'),
      actor: z.string().max(200).optional().describe('Exact actor, e.g. token:deploy(0123456789ab)'),
      action: z.string().max(100).optional().describe('Action prefix, e.g. secret.read or auth.'),
      ...pageInput,
    }),
    output: z.object({
      items: z.array(z.object({ id: z.number().int(), at: isoDate, actor: z.string(), action: z.string(), target: z.string().nullable(), outcome: z.enum(['ok', 'denied', 'error']), detail: z.record(z.string(), z.unknown()) })),
      ...pageOutput,
    }),
    handler: ({ svc }, input) => pageNewestFirst(input, (before, limit) => svc.audit.list({ ...input, before, limit })),
  }),
];
