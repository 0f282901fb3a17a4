// Input pieces and output shapes of the Cloudflare operations.
import { z } from 'zod';
import { COMMENT_MAX, OWNER_MARK } from './records.js';

const noNul = (s: string) => !s.includes('\0');

/** Normalised (lower-case, punycode) and checked by the service; here only the outer limits. */
export const hostnameInput = z.string().min(1).max(253).refine(noNul, 'must not contain NUL bytes').describe('Hostname, e.g. api.consilio.example.com or *.dev.example.com');
export const dryRun = z.boolean().default(false).describe('Only return the plan; change nothing');
export const force = z.boolean().default(false).describe('Also change or delete records and rules the supervisor did not make');
export const proxied = z.boolean().default(true).describe("Through Cloudflare's proxy (orange cloud); proxied records always have TTL 1, automatic");
export const ttl = z.number().int().min(1).max(86_400).default(1).describe('Seconds: 1 = automatic, else 60-86400 (30 on Enterprise zones); ignored when proxied');
/** Cloudflare keeps COMMENT_MAX characters (Free plan) and refuses line breaks; the ownership mark and a space come first. */
export const COMMENT_INPUT_MAX = COMMENT_MAX - OWNER_MARK.length - 1;
export const comment = z
  .string()
  .max(COMMENT_INPUT_MAX, `at most ${COMMENT_INPUT_MAX} characters: Cloudflare keeps ${COMMENT_MAX} and the ownership mark "${OWNER_MARK} " takes ${OWNER_MARK.length + 1}`)
  .refine(noNul, 'must not contain NUL bytes')
  .refine((s) => !/[\r\n]/.test(s), 'must be one line: Cloudflare comments cannot hold \\n or \\r')
  .describe(`Your note on the record, one line of at most ${COMMENT_INPUT_MAX} characters, stored after the ownership mark`);
export const tunnelService = z
  .string()
  .min(1)
  .max(500)
  .refine(noNul, 'must not contain NUL bytes')
  .describe('Where cloudflared sends the traffic: http://localhost:4001, https://…, tcp://…, unix:/path, http_status:404, hello_world');
export const routePath = z.string().max(500).refine(noNul, 'must not contain NUL bytes').describe('Optional path regular expression the rule is limited to, e.g. ^/api/');

export const recordView = z.object({
  id: z.string().optional().describe('Cloudflare record id (absent for records not created yet)'),
  zone: z.string(),
  type: z.string(),
  name: z.string(),
  content: z.string(),
  proxied: z.boolean(),
  ttl: z.number().int(),
  comment: z.string().nullable(),
  owned: z.boolean().describe('Made by the supervisor (carries its ownership mark)'),
});

export const dnsPlan = z.object({
  create: z.array(recordView),
  update: z.array(z.object({ before: recordView, after: recordView })),
  delete: z.array(recordView),
  unchanged: z.number().int().describe('Wanted records that are already right'),
  conflicts: z.array(z.object({ name: z.string(), type: z.string(), reason: z.string(), existing: recordView })).describe('Records not ours that stand in the way; untouched without force'),
});

export const dnsOutcome = z.object({
  plan: dnsPlan,
  applied: z.boolean().describe('False for a dry run'),
  failed: z
    .array(z.object({ action: z.string(), name: z.string(), type: z.string(), code: z.string().describe('Error code, e.g. conflict for a host clash'), error: z.string() }))
    .describe('Records Cloudflare refused; the rest were applied'),
  notChecked: z.array(z.string()).describe('What a dry run could not compare with Cloudflare, and why (e.g. no API token yet); empty when everything was checked'),
});

const routeRef = z.object({ hostname: z.string(), path: z.string(), service: z.string() });

export const routePlan = z.object({
  add: z.array(routeRef),
  remove: z.array(routeRef),
  change: z.array(z.object({ hostname: z.string(), path: z.string(), before: z.string(), after: z.string() })),
  conflicts: z.array(z.object({ hostname: z.string(), path: z.string(), wanted: z.string(), existing: z.string() })).describe('Hostnames a rule not made by the supervisor already serves differently (kept without force), or a stored route holds against a port allocation (kept until removed)'),
  kept: z.number().int().describe('Rules not made by the supervisor, kept as they are'),
});

export const syncOutcome = z.object({
  ok: z.boolean().describe('false when a wanted route or record is not in place: conflicts, records Cloudflare refused'),
  tunnelId: z.string(),
  mode: z.enum(['local', 'remote']),
  where: z.string().describe('config.yml path (local) or API path (remote)'),
  dryRun: z.boolean(),
  routes: routePlan,
  changed: z.boolean().describe('The ingress differs from what the tunnel has'),
  written: z.boolean().describe('config.yml written or configuration PUT by this call'),
  restarted: z.boolean().describe('The restart command ran (local mode)'),
  dns: dnsOutcome,
  warnings: z.array(z.string()).describe('Works, but needs attention: e.g. hostnames more than one level below their zone need an advanced certificate for HTTPS'),
});

export const routeView = z.object({
  hostname: z.string(),
  path: z.string(),
  service: z.string(),
  source: z.enum(['allocation', 'manual', 'imported']),
  project: z.string().nullable(),
  dnsWanted: z.boolean().describe('The route asks for a proxied CNAME to the tunnel (wanted, not necessarily made)'),
  applied: z
    .object({
      ingress: z.boolean().describe("The rule is in the tunnel's ingress, as the supervisor last wrote or read it"),
      dns: z.boolean().describe('A CNAME to the tunnel exists for the hostname, as Cloudflare last answered'),
    })
    .describe('What is in place, apart from what is wanted; false for both before the first sync_tunnel (or with no tunnel configured). sync_tunnel with dryRun compares with the live state'),
});
