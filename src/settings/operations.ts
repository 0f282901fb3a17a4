import { z } from 'zod';
import { IDEMPOTENT_WRITE, operationsOf, READ } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { pageArray, pageInput, pageOutput } from '../core/page.js';
import type { SettingsStore } from '../core/settings-store.js';

const operation = operationsOf<SettingsStore>('settings');

const name = z.string().min(1).max(100).describe('File key (cloudflareTunnelId) or environment variable (SUPERVISOR_CLOUDFLARE_TUNNEL_ID)');
const setting = z.object({
  name: z.string(),
  env: z.string(),
  domain: z.string(),
  value: z.string().nullable(),
  source: z.enum(['env', 'file', 'default']),
  pending: z.string().nullable().optional().describe('What the next start uses, when it differs from value (restart to apply)'),
  live: z.boolean(),
  doc: z.string(),
});

export const configOperations = [
  operation({
    name: 'list_settings',
    title: 'List settings',
    description: 'Every setting: value in use (keys and passwords hidden), where it comes from (env, file, default), whether a change applies without a restart.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/settings' },
    cli: { command: ['config', 'list'], columns: ['name', 'value', 'source', 'live'] },
    input: z.object({ ...pageInput }),
    output: z.object({ items: z.array(setting), ...pageOutput }),
    handler: async ({ svc }, input) => {
      // In declaration order (core first, then each domain's): the cursor is the position.
      const all = (await svc.list()).map((item, i) => ({ item, key: String(i).padStart(4, '0') }));
      const page = pageArray(all, input, (e) => e.key);
      return { items: page.items.map((e) => e.item), nextCursor: page.nextCursor };
    },
  }),
  operation({
    name: 'get_setting',
    title: 'Get setting',
    description: 'One setting: its value in use, where it comes from, whether it applies live.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/setting' },
    cli: { command: ['config', 'get'], args: ['name'] },
    input: z.object({ name }),
    output: setting,
    handler: ({ svc }, input) => svc.get(input.name),
  }),
  operation({
    name: 'set_setting',
    title: 'Set setting',
    description: "Write a setting to the data dir's config file. Those list_settings calls live apply at once, others after a restart. An environment variable still wins. Never for secrets (use set_secret).",
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'PUT', path: '/setting' },
    cli: { command: ['config', 'set'], args: ['name', 'value'] },
    input: z.object({
      name,
      // A number or switch as JSON (portBlockSize: 50) is taken as the text the file would hold.
      value: z.union([z.string().max(4096), z.number(), z.boolean()], { error: (issue) => (issue.input === null || typeof issue.input === 'object' ? 'expected text, a number or true/false (null is not a value; unset: true goes back to the default)' : undefined) }).optional().describe('The new value, as in the config file; omit with unset'),
      unset: z.boolean().default(false).describe('Remove it from the file (back to the default)'),
    }),
    output: z.object({ setting, file: z.string(), applied: z.enum(['live', 'restart', 'overridden']), message: z.string() }),
    handler: ({ svc }, input) => {
      if (input.value === undefined && !input.unset) throw invalidInput(`value: missing; give ${input.name} a value, or unset: true for its default`, { field: 'value' });
      if (input.value !== undefined && input.unset) throw invalidInput('give a value, or unset: true, not both');
      return svc.set(input.name, input.unset ? null : String(input.value));
    },
  }),
];
