// Parity cases of the cloudflare domain: the daemon talks to a fake API; each interface
// works on its own hostnames. See test/parity/harness.ts.
import assert from 'node:assert/strict';
import { desiredRecord } from '../../src/cloudflare/records.js';
import { setupActor, type Json, type ParityCases, type ParityContext } from '../parity/harness.js';

export const cloudflareParity: ParityCases = (ctx) => ({
  verify_cloudflare: { input: () => ({}) },
  create_cname: {
    input: (via) => ({ hostname: `c.via-${via}.example.com`, target: 'origin.example.net' }),
    normalise: withoutRecordIds,
  },
  create_a_record: {
    input: (via) => ({ hostname: `a.via-${via}.example.com`, address: '192.0.2.10', proxied: false, ttl: 300 }),
    normalise: withoutRecordIds,
  },
  delete_dns_record: {
    async input(via) {
      await cloudflareRecord(ctx, `d.via-${via}.example.com`);
      return { hostname: `d.via-${via}.example.com` };
    },
    normalise: withoutRecordIds,
  },
  list_dns_records: {
    async input(via) {
      await cloudflareRecord(ctx, `l.via-${via}.example.com`);
      return { hostname: `l.via-${via}.example.com` };
    },
    normalise: withoutRecordIds,
  },
  add_tunnel_route: {
    // Routes of allocations made by earlier cases are synced first, so each call adds only its own.
    setup: () => syncTunnel(ctx),
    input: (via) => ({ hostname: `r.via-${via}.example.com`, port: 29150 }),
    normalise: withoutRecordIdsAndUnchanged,
  },
  remove_tunnel_route: {
    async input(via) {
      await ctx.daemon.services.cloudflare.addRoute(setupActor.actor, { hostname: `x.via-${via}.example.com`, service: 'http://localhost:29151', dns: true, force: false, dryRun: false });
      return { hostname: `x.via-${via}.example.com` };
    },
    normalise: withoutRecordIdsAndUnchanged,
  },
  list_tunnel_routes: { input: () => ({ limit: 200 }) },
  sync_tunnel: { input: () => ({ dryRun: true }) },
  prune_tunnel_dns: { input: () => ({}) },
  import_cloudflare: { input: () => ({ dryRun: true }) },
  list_cloudflare_changes: { input: () => ({ limit: 3 }) },
});

async function syncTunnel(ctx: ParityContext): Promise<void> {
  await ctx.daemon.services.cloudflare.sync(setupActor.actor, { dryRun: false, force: false, dns: true });
}

/** A record the supervisor owns, made through the services (setup, not under test). */
async function cloudflareRecord(ctx: ParityContext, hostname: string): Promise<void> {
  await ctx.daemon.services.cloudflare.changeRecords(setupActor.actor, 'setup', {
    upserts: [desiredRecord({ type: 'A', name: hostname, content: '192.0.2.20', proxied: true, ttl: 1 })],
    deletes: [],
    force: false,
    dryRun: false,
  });
}

/** Cloudflare makes a new random id for each interface's record; ids are compared by presence. */
function withoutRecordIds(value: unknown): Json {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'id' ? (typeof x === 'string' && x.length > 0 ? '<id>' : x) : strip(x)]));
    return v;
  };
  return strip(value) as Json;
}

/** A tunnel call syncs every route: the earlier interfaces' CNAMEs count as unchanged. */
function withoutRecordIdsAndUnchanged(o: Json): Json {
  const dns = o.dns as Json;
  assert.equal(typeof (dns.plan as Json).unchanged, 'number');
  return withoutRecordIds({ ...o, dns: { ...dns, plan: { ...(dns.plan as Json), unchanged: '<n>' } } });
}
