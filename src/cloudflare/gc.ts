// cloudflare_gc: CNAMEs we made for this tunnel whose hostname no route or allocation wants
// any more (a released port, a route removed with keepDns). Visitors of such a name get
// Cloudflare's error 1016 or the catch-all, so they are worth cleaning up.
import type { DnsOutcome, DnsService } from './dns.js';
import { isOwned, viewOf, type RecordView } from './records.js';
import type { Route } from './ingress-merge.js';
import type { ZoneDirectory } from './zones.js';
import type { CloudflareClient } from './client.js';
import { tunnelTarget } from './tunnel.js';

export interface GcDeps {
  client: CloudflareClient;
  zones: ZoneDirectory;
  dns: DnsService;
}

export interface GcOutcome {
  tunnelId: string;
  orphans: RecordView[];
  applied: boolean;
  dns: DnsOutcome | null;
}

export async function collectGarbage(deps: GcDeps, actor: string, input: { tunnelId: string; routes: Route[]; apply: boolean }): Promise<GcOutcome> {
  const target = tunnelTarget(input.tunnelId);
  const wanted = new Set(input.routes.filter((r) => r.dns).map((r) => r.hostname));
  const orphans: RecordView[] = [];
  for (const zone of await deps.zones.all()) {
    const records = await deps.client.listDnsRecords(zone.id, { type: 'CNAME', content: target }, 5000);
    for (const r of records) {
      if (isOwned(r) && r.content.toLowerCase() === target && !wanted.has(r.name.toLowerCase())) orphans.push(viewOf(zone.name, r));
    }
  }
  // applied says whether this was the real thing, as for every other change: with nothing to delete, it still was.
  if (!input.apply || orphans.length === 0) return { tunnelId: input.tunnelId, orphans, applied: input.apply === true, dns: null };
  const dns = await deps.dns.apply(actor, 'prune_tunnel_dns', {
    upserts: [],
    deletes: orphans.map((o) => ({ name: o.name, type: 'CNAME', content: target })),
    force: false,
    dryRun: false,
  });
  return { tunnelId: input.tunnelId, orphans, applied: true, dns };
}
