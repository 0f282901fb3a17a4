import { isIP } from 'node:net';
import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { pageArray, pageInput, pageNewestFirst, pageOutput, type Page } from '../core/page.js';
import { normalizeHostname } from './ingress-rules.js';
import { desiredRecord, RECORD_TYPES, type RecordView } from './records.js';
import { comment, dnsOutcome, dryRun, force, hostnameInput, proxied, recordView, routePath, routeView, syncOutcome, ttl, tunnelService } from './schemas.js';
import type { DnsOutcome } from './dns.js';
import type { CloudflareService } from './service.js';

// Every Cloudflare operation reaches an outside system.
const open = <T extends object>(a: T) => ({ ...a, openWorldHint: true });

/** The record a single-record call left in place (or would), for its answer. */
function resultRecord(outcome: DnsOutcome, name: string): RecordView | null {
  const { plan } = outcome;
  return plan.create.find((r) => r.name === name) ?? plan.update.find((u) => u.after.name === name)?.after ?? null;
}

/**
 * pageArray's cursor is the last key shown and the next page starts after it in code-unit
 * order, so the list must be sorted in exactly that order (localeCompare and SQL collations
 * put "_", "-", "*" elsewhere). Keys are joined with U+0001: a cursor may not carry NUL.
 */
function pageByKey<T>(all: T[], page: { limit: number; cursor?: string }, key: (item: T) => string): Page<T> {
  const keyed = all.map((item) => ({ item, key: key(item) })).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const { items, nextCursor } = pageArray(keyed, page, (k) => k.key);
  return { items: items.map((k) => k.item), nextCursor };
}

const recordAnswer = z.object({
  hostname: z.string(),
  changed: z.boolean().describe('False when the record already was exactly like this (no API write)'),
  record: recordView.nullable().describe('The record created or updated; null when nothing changed'),
  ...dnsOutcome.shape,
});

/** A dry run's answer to create_cname and create_a_record names the write it did not make. */
const RECORD_DRY_RUN = { changed: 'would change', record: 'would write' };

function answer(hostname: string, outcome: DnsOutcome) {
  const { plan } = outcome;
  const changed = plan.create.length + plan.update.length + plan.delete.length > 0;
  return { hostname, changed, record: resultRecord(outcome, hostname), ...outcome };
}

const operation = operationsOf<CloudflareService>('cloudflare');

export const cloudflareOperations = [
  operation({
    name: 'verify_cloudflare',
    title: 'Verify Cloudflare token',
    description: 'Check the Cloudflare token: active, zones seen, permissions missing. Run it first when a Cloudflare call fails.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/cloudflare/verify' },
    cli: { command: ['cloudflare', 'verify'], failWhen: { field: 'ok', values: [false] } },
    input: z.object({}),
    output: z.object({
      ok: z.boolean(),
      token: z.object({ id: z.string(), status: z.string(), owner: z.enum(['user', 'account']).describe("account: an account API token, verified at its account") }),
      zones: z.array(z.string()),
      method: z.enum(['token_policies', 'probes']).describe("token_policies: read from the token's own policies; probes: found out by harmless calls"),
      permissions: z.record(z.enum(['zoneRead', 'dnsRead', 'dnsEdit', 'tunnelRead', 'tunnelEdit']), z.enum(['ok', 'missing', 'unknown', 'not_needed'])),
      missing: z.array(z.string()).describe('What to add to the token'),
    }),
    handler: ({ svc }) => svc.verify(),
  }),
  operation({
    name: 'create_cname',
    title: 'Create CNAME record',
    description: 'Create or update a CNAME (idempotent). Records not made by the supervisor need force. For tunnel hostnames use add_tunnel_route.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/dns/cname' },
    cli: { command: ['dns', 'cname'], args: ['hostname', 'target'], dryRunLabels: RECORD_DRY_RUN },
    input: z.object({ hostname: hostnameInput, target: hostnameInput.describe('The name it points at, e.g. <tunnel-id>.cfargotunnel.com'), proxied, ttl, comment: comment.optional(), force, dryRun }),
    output: recordAnswer,
    handler: async ({ svc, principal }, input) => {
      const record = desiredRecord({ type: 'CNAME', name: input.hostname, content: input.target, proxied: input.proxied, ttl: input.ttl, comment: input.comment });
      return answer(record.name, await svc.changeRecords(principal.actor, 'create_cname', { upserts: [record], deletes: [], force: input.force, dryRun: input.dryRun }));
    },
  }),
  operation({
    name: 'create_a_record',
    title: 'Create A/AAAA record',
    description: 'Create or update an A/AAAA record (idempotent); foreign records need force.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/dns/a' },
    cli: { command: ['dns', 'a'], args: ['hostname', 'address'], dryRunLabels: RECORD_DRY_RUN },
    input: z.object({ hostname: hostnameInput, address: z.string().min(1).max(64).describe('IPv4 or IPv6 address'), proxied, ttl, comment: comment.optional(), force, dryRun }),
    output: recordAnswer,
    handler: async ({ svc, principal }, input) => {
      const family = isIP(input.address.trim());
      if (family === 0) throw invalidInput(`address must be an IPv4 or IPv6 address, got ${JSON.stringify(input.address)}`, { field: 'address' });
      const type = family === 4 ? 'A' : 'AAAA';
      const record = desiredRecord({ type, name: input.hostname, content: input.address, proxied: input.proxied, ttl: input.ttl, comment: input.comment });
      return answer(record.name, await svc.changeRecords(principal.actor, 'create_a_record', { upserts: [record], deletes: [], force: input.force, dryRun: input.dryRun }));
    },
  }),
  operation({
    name: 'delete_dns_record',
    title: 'Delete DNS record',
    description: "Delete a hostname's A, AAAA and CNAME records (ours only, unless force).",
    access: 'admin',
    annotations: open(DESTRUCTIVE),
    rest: { method: 'DELETE', path: '/dns/records' },
    cli: { command: ['dns', 'delete'], args: ['hostname'], dryRunLabels: { deleted: 'would delete' } },
    input: z.object({ hostname: hostnameInput, type: z.enum(RECORD_TYPES).optional().describe('Only records of this type'), force, dryRun }),
    output: z.object({ hostname: z.string(), deleted: z.number().int().describe('Records deleted (or, in a dry run, that would be)'), ...dnsOutcome.shape }),
    handler: async ({ svc, principal }, input) => {
      const name = normalizeHostname(input.hostname);
      const outcome = await svc.changeRecords(principal.actor, 'delete_dns_record', { upserts: [], deletes: [{ name, type: input.type }], force: input.force, dryRun: input.dryRun });
      return { hostname: name, deleted: outcome.plan.delete.length, ...outcome };
    },
  }),
  operation({
    name: 'list_dns_records',
    title: 'List DNS records',
    description: 'DNS records of the managed zones, live from Cloudflare.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/dns/records' },
    cli: { command: ['dns', 'list'], args: ['zone'], columns: ['zone', 'type', 'name', 'content', 'proxied', 'owned'] },
    input: z.object({
      zone: z.string().max(253).optional().describe('Zone name, e.g. example.com'),
      hostname: hostnameInput.optional(),
      type: z.string().regex(/^[A-Z]{1,10}$/, 'a record type in capitals, e.g. CNAME').optional().describe('Only records of this type, e.g. CNAME'),
      ownedOnly: z.boolean().default(false).describe('Only records the supervisor made'),
      ...pageInput,
    }),
    output: z.object({ items: z.array(recordView), ...pageOutput }),
    handler: async ({ svc }, input) => {
      const all = await svc.listRecords({ zone: input.zone, name: input.hostname, type: input.type, ownedOnly: input.ownedOnly });
      return pageByKey(all, input, (r) => `${r.name}\u0001${r.type}\u0001${r.id ?? ''}`);
    },
  }),
  operation({
    name: 'add_tunnel_route',
    title: 'Add tunnel route',
    description: "Route a hostname through the tunnel to a local service, and create its CNAME. (Allocations with a hostname are routed by sync_tunnel.)",
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/tunnel/routes' },
    cli: { command: ['tunnel', 'add'], args: ['hostname', 'service'], exactlyOne: ['service', 'port'], failWhen: { field: 'ok', values: [false] }, dryRunLabels: { created: 'would create' } },
    input: z.object({
      hostname: hostnameInput,
      service: tunnelService.optional(),
      port: z.number().int().min(1).max(65535).optional().describe('Shorthand for service http://localhost:<port>'),
      path: routePath.optional(),
      dns: z.boolean().default(true).describe('Also create the proxied CNAME to <tunnel-id>.cfargotunnel.com'),
      force,
      dryRun,
    }),
    output: z.object({ created: z.boolean().describe('False when the route already existed (it is updated); with dryRun, what would be'), ...syncOutcome.shape }),
    handler: async ({ svc, principal }, input) => {
      if ((input.service === undefined) === (input.port === undefined)) throw invalidInput('give exactly one of service (e.g. http://localhost:4001) or port');
      const service = input.service ?? `http://localhost:${input.port}`;
      return svc.addRoute(principal.actor, { hostname: input.hostname, path: input.path, service, dns: input.dns, force: input.force, dryRun: input.dryRun });
    },
  }),
  operation({
    name: 'remove_tunnel_route',
    title: 'Remove tunnel route',
    description: "Remove a manual or imported tunnel route and its CNAME.",
    access: 'admin',
    annotations: open(DESTRUCTIVE),
    rest: { method: 'DELETE', path: '/tunnel/routes' },
    cli: { command: ['tunnel', 'remove'], args: ['hostname'], failWhen: { field: 'ok', values: [false] }, dryRunLabels: { removed: 'would remove' } },
    input: z.object({ hostname: hostnameInput, path: routePath.optional(), keepDns: z.boolean().default(false).describe('Leave the CNAME in place'), dryRun }),
    output: z.object({ removed: z.boolean(), ...syncOutcome.shape }),
    handler: ({ svc, principal }, input) => svc.removeRoute(principal.actor, input),
  }),
  operation({
    name: 'list_tunnel_routes',
    title: 'List tunnel routes',
    description: 'The tunnel routes (allocations with a hostname, manual and imported routes): what each wants, and what is applied.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/tunnel/routes' },
    cli: { command: ['tunnel', 'routes'], columns: ['hostname', 'path', 'service', 'source', 'project'] },
    input: z.object({ ...pageInput }),
    output: z.object({ items: z.array(routeView), ...pageOutput }),
    handler: async ({ svc }, input) => {
      const routes = (await svc.listRoutes()).map(({ dns, ...r }) => ({ ...r, dnsWanted: dns }));
      return pageByKey(routes, input, (r) => `${r.hostname}\u0001${r.path}`);
    },
  }),
  operation({
    name: 'sync_tunnel',
    title: 'Sync tunnel ingress',
    description: "Make the tunnel's ingress (and CNAMEs) match the routes; foreign rules are kept; no change, no write. Run after changing hostnames.",
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/tunnel/sync' },
    cli: { command: ['tunnel', 'sync'], flags: { plan: 'dryRun' }, failWhen: { field: 'ok', values: [false] } },
    input: z.object({ dryRun, force, dns: z.boolean().default(true).describe('Also create the CNAMEs of the routed hostnames') }),
    output: syncOutcome,
    handler: ({ svc, principal }, input) => svc.sync(principal.actor, input),
  }),
  operation({
    name: 'prune_tunnel_dns',
    title: 'Clean up orphaned DNS records',
    description: 'Our CNAMEs to the tunnel that no route wants any more; apply deletes them.',
    access: 'admin',
    annotations: open(DESTRUCTIVE),
    rest: { method: 'POST', path: '/cloudflare/gc' },
    cli: { command: ['cloudflare', 'gc'] },
    input: z.object({ apply: z.boolean().default(false).describe('Delete the orphans; false only lists them') }),
    output: z.object({ tunnelId: z.string(), orphans: z.array(recordView), applied: z.boolean(), dns: dnsOutcome.nullable() }),
    handler: ({ svc, principal }, input) => svc.gc(principal.actor, input),
  }),
  operation({
    name: 'import_cloudflare',
    title: 'Import from Cloudflare',
    description: "Read the zones' records and the tunnel's ingress into the database (unknown rules become imported routes).",
    access: 'admin',
    annotations: open(WRITE),
    rest: { method: 'POST', path: '/cloudflare/import' },
    cli: { command: ['cloudflare', 'import'] },
    input: z.object({ dryRun, tunnel: z.boolean().default(true).describe("Also read the tunnel's ingress (needs the tunnel settings)") }),
    output: z.object({
      dryRun: z.boolean(),
      zones: z.array(z.object({ zone: z.string(), records: z.number().int(), owned: z.number().int() })),
      routes: z.array(z.object({ hostname: z.string(), path: z.string(), service: z.string() })).describe('Routes imported (or that would be)'),
      known: z.number().int().describe('Ingress rules already covered by an allocation or route'),
      skipped: z.number().int().describe('Ingress rules that cannot become routes (no or invalid hostname)'),
    }),
    handler: ({ svc, principal }, input) => svc.import(principal.actor, input),
  }),
  operation({
    name: 'list_cloudflare_changes',
    title: 'List Cloudflare changes',
    description: 'Every change sent to Cloudflare or the tunnel config, newest first.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/cloudflare/changes' },
    cli: { command: ['cloudflare', 'changes'], args: ['target'], columns: ['at', 'actor', 'action', 'target', 'outcome'] },
    input: z.object({ target: z.string().max(253).optional().describe('Only changes of this hostname or record'), ...pageInput }),
    output: z.object({
      items: z.array(z.object({
        id: z.number().int(),
        at: z.string().describe('ISO 8601 timestamp'),
        actor: z.string(),
        operation: z.string(),
        action: z.string(),
        target: z.string(),
        outcome: z.enum(['ok', 'error']),
        detail: z.record(z.string(), z.unknown()),
      })),
      ...pageOutput,
    }),
    handler: ({ svc }, input) => pageNewestFirst(input, (before, limit) => svc.changes.list({ target: input.target, before, limit })),
  }),
];
