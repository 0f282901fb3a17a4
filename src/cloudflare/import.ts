// import_cloudflare: read what Cloudflare and the tunnel have now into the database, changing
// nothing outside it. DNS records fill the mirror; ingress rules that no allocation or stored
// route covers become imported routes, so later syncs manage (and keep) them.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import type { CloudflareClient, DnsRecord, Zone } from './client.js';
import type { RecordMirror } from './changes.js';
import { routeKey, type Route } from './ingress-merge.js';
import { isCatchAll, normalizeHostname } from './ingress-rules.js';
import { isOwned } from './records.js';
import type { IngressTarget } from './tunnel-target.js';
import type { ZoneDirectory } from './zones.js';

export interface ImportDeps {
  db: Db;
  clock: Clock;
  client: CloudflareClient;
  zones: ZoneDirectory;
  mirror: RecordMirror;
}

export interface ImportOutcome {
  dryRun: boolean;
  zones: Array<{ zone: string; records: number; owned: number }>;
  routes: Array<{ hostname: string; path: string; service: string }>;
  /** Rules already covered by an allocation or a stored route. */
  known: number;
  /** Rules that cannot be a route (no hostname). */
  skipped: number;
}

export async function importCloudflare(
  deps: ImportDeps,
  actor: string,
  input: { dryRun: boolean; tunnel: { tunnelId: string; target: IngressTarget } | null; routes: Route[] },
): Promise<ImportOutcome> {
  const listed: Array<{ zone: Zone; records: DnsRecord[] }> = [];
  for (const zone of await deps.zones.all()) listed.push({ zone, records: await deps.client.listDnsRecords(zone.id, {}, 5000) });
  const ingress = input.tunnel ? await input.tunnel.target.read() : [];

  const known = new Set(input.routes.map((r) => routeKey(r.hostname, r.path)));
  const adopt: Array<{ hostname: string; path: string; service: string }> = [];
  let skipped = 0;
  let covered = 0;
  for (const rule of ingress) {
    if (isCatchAll(rule)) continue;
    const hostname = rule.hostname ? canonical(rule.hostname) : undefined;
    if (!hostname) skipped++;
    else if (known.has(routeKey(hostname, rule.path))) covered++;
    else adopt.push({ hostname, path: rule.path ?? '', service: rule.service });
  }

  if (!input.dryRun) {
    const now = deps.clock.now();
    await deps.db.transaction(async (tx) => {
      for (const { zone, records } of listed) await deps.mirror.replaceZone(zone, records, tx);
      for (const r of adopt) {
        await tx.query(
          `INSERT INTO tunnel_routes (hostname, path, service, dns, source, created_at, created_by) VALUES ($1, $2, $3, true, 'imported', $4, $5)
           ON CONFLICT (hostname, path) DO NOTHING`,
          [r.hostname, r.path, r.service, now, actor],
        );
        await tx.query('INSERT INTO tunnel_owned_rules (tunnel_id, hostname, path) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING', [input.tunnel!.tunnelId, r.hostname, r.path]);
      }
    });
  }
  return {
    dryRun: input.dryRun,
    zones: listed.map(({ zone, records }) => ({ zone: zone.name, records: records.length, owned: records.filter(isOwned).length })),
    routes: adopt,
    known: covered,
    skipped,
  };
}

/** Routes are stored in canonical form; a hand-written name that is not a valid hostname stays foreign. */
function canonical(hostname: string): string | undefined {
  try {
    return normalizeHostname(hostname);
  } catch {
    return undefined;
  }
}
