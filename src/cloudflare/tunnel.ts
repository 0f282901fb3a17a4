// Tunnel ingress kept in sync with the port registry and the manual routes, plus the proxied
// CNAME each tunnel hostname needs. One sync at a time per tunnel (the remote API has no
// precondition and cloudflared restarts are not free).
import type { Clock } from '../core/clock.js';
import type { Db, Queryable } from '../core/db.js';
import { SupervisorError, conflict, invalidInput } from '../core/errors.js';
import { LOCAL_HOST, type Allocation } from '../ports/index.js';
import type { Zone } from './client.js';
import type { ChangeLog } from './changes.js';
import type { DnsOutcome, DnsRequest, DnsService } from './dns.js';
import { mergeIngress, routeKey, type Merged, type Route, type RoutePlan } from './ingress-merge.js';
import { ingressProblems, localPort, sameIngress } from './ingress-rules.js';
import type { PortClaim } from '../core/port-claims.js';
import { desiredRecord, type DeleteTarget } from './records.js';
import type { IngressTarget, IngressWrite } from './tunnel-target.js';
import type { Fenced, WriteFence } from './write-fence.js';

/** What serialises a tunnel's syncs across daemons, and names its writes in flight. */
const lockKey = (tunnelId: string) => `tunnel:${tunnelId}`;

export interface TunnelSetup {
  tunnelId: string;
  target: IngressTarget;
  /** Set-up that works but is likely wrong (config.yml naming another tunnel), said with every sync. */
  warnings?: string[];
}

export interface TunnelDeps {
  db: Db;
  clock: Clock;
  dns: DnsService;
  changes: ChangeLog;
  /** One sync of a tunnel at a time across daemons (its configuration has no write precondition), fenced against an earlier holder's writes. */
  fence: WriteFence;
  /** Resolved per sync: the tunnel id may come from config.yml, the account from the zones. */
  setup: () => Promise<TunnelSetup>;
  /** Allocations with a hostname (the ports domain). */
  allocations: () => Promise<Allocation[]>;
  /** The managed zone a hostname belongs to; undefined when none holds it. */
  findZone: (hostname: string) => Promise<Zone | undefined>;
  /** Whether the configured zone names show no managed zone holds the hostname, without a call to Cloudflare. */
  outsideConfigured: (hostname: string) => boolean;
}

export interface SyncOptions {
  dryRun: boolean;
  force: boolean;
  /** Create the CNAMEs of routes that want one. */
  dns: boolean;
  /** A route being added (added to the wanted set; stored by `commit`). */
  adding?: Route;
  /** A route being removed (left out of the wanted set; its CNAME deleted unless keepDns). */
  removing?: { hostname: string; path: string; keepDns: boolean };
  /** Database work that must land together with the new owned-rules set. */
  commit?: (tx: Queryable) => Promise<void>;
  /** Set for a dry run without an API token: why DNS records cannot be compared with Cloudflare. */
  dnsUnchecked?: string;
}

export interface SyncOutcome {
  /** Everything wanted is in place (or, in a dry run, would be): no conflict, no refused record. */
  ok: boolean;
  tunnelId: string;
  mode: 'local' | 'remote';
  where: string;
  dryRun: boolean;
  routes: RoutePlan;
  /** The ingress differs from what the tunnel has: a write (or PUT) happened, or would. */
  changed: boolean;
  written: boolean;
  restarted: boolean;
  dns: DnsOutcome;
  /** Things that work but need attention (certificates for deep hostnames). */
  warnings: string[];
}

interface RouteRow {
  hostname: string;
  path: string;
  service: string;
  dns: boolean;
  source: 'manual' | 'imported';
}

export const tunnelTarget = (tunnelId: string) => `${tunnelId}.cfargotunnel.com`;

function allocationService(a: Allocation): string {
  return `http://${a.host === LOCAL_HOST ? 'localhost' : a.host}:${a.port}`;
}

export class TunnelService {
  constructor(private readonly deps: TunnelDeps) {}

  /** Every route the supervisor wants: allocations with a hostname, then stored routes. */
  async routes(): Promise<Route[]> {
    return (await this.wantedRoutes()).routes;
  }

  /**
   * The routes, and the allocations whose hostname a stored route (add_tunnel_route, import)
   * already serves with another service. The stored route keeps it: a port allocated with a
   * hostname, by a project token too, must not take over a route an admin made. An allocation
   * for the same service is the same route. `removing` is a stored route on its way out: an
   * allocation it held back takes its hostname in the same write.
   */
  private async wantedRoutes(removing?: { hostname: string; path: string }): Promise<{ routes: Route[]; shadowed: RoutePlan['conflicts'] }> {
    const stored = new Map((await this.storedRoutes()).map((r) => [routeKey(r.hostname, r.path), r]));
    if (removing) stored.delete(routeKey(removing.hostname, removing.path));
    const fromPorts: Route[] = [];
    const shadowed: RoutePlan['conflicts'] = [];
    for (const a of await this.deps.allocations()) {
      if (!a.hostname || a.protocol !== 'tcp') continue;
      const route: Route = { hostname: a.hostname, path: '', service: allocationService(a), source: 'allocation', project: a.project, dns: true };
      const key = routeKey(route.hostname, route.path);
      const held = stored.get(key);
      if (held && held.service !== route.service) {
        shadowed.push({ hostname: route.hostname, path: route.path, wanted: route.service, existing: `${held.service} (${held.source} route; remove_tunnel_route it to route the port)` });
        continue;
      }
      stored.delete(key);
      fromPorts.push(route);
    }
    return { routes: [...fromPorts, ...stored.values()], shadowed };
  }

  /**
   * The routes with what is in place for each, from the database: the rules last written to
   * (or imported from) this tunnel's ingress, and the CNAMEs to it as Cloudflare last answered.
   */
  async routesWithStatus(tunnelId: string | undefined): Promise<Array<Route & { applied: { ingress: boolean; dns: boolean } }>> {
    const routes = await this.routes();
    const ingress = tunnelId ? await this.ownedRules(tunnelId) : new Map<string, string | null>();
    const { rows } = tunnelId
      ? await this.deps.db.query<{ name: string }>(`SELECT DISTINCT name FROM dns_records WHERE type = 'CNAME' AND content = $1`, [tunnelTarget(tunnelId.toLowerCase())])
      : { rows: [] };
    const cnames = new Set(rows.map((r) => r.name));
    return routes.map((r) => ({ ...r, applied: { ingress: ingress.has(routeKey(r.hostname, r.path)), dns: cnames.has(r.hostname) } }));
  }

  async storedRoutes(q: Queryable = this.deps.db): Promise<Route[]> {
    const { rows } = await q.query<RouteRow>('SELECT hostname, path, service, dns, source FROM tunnel_routes ORDER BY hostname, path');
    return rows.map((r) => ({ ...r, project: null }));
  }

  async sync(actor: string, operation: string, options: SyncOptions): Promise<SyncOutcome> {
    const { tunnelId, target, warnings = [] } = await this.deps.setup();
    return this.deps.fence.run(lockKey(tunnelId), (fenced) => this.syncLocked(actor, operation, { tunnelId, target, warnings }, options, fenced));
  }

  private async syncLocked(actor: string, operation: string, { tunnelId, target, warnings: setupWarnings = [] }: TunnelSetup, options: SyncOptions, fenced: Fenced): Promise<SyncOutcome> {
    let { routes: wanted, shadowed } = await this.wantedRoutes(options.removing);
    const addingKey = options.adding && routeKey(options.adding.hostname, options.adding.path);
    if (options.adding) {
      // The route being added takes its hostname's place, from an allocation or an older stored route.
      wanted = [...wanted.filter((r) => routeKey(r.hostname, r.path) !== addingKey), options.adding];
      shadowed = shadowed.filter((c) => routeKey(c.hostname, c.path) !== addingKey);
    }

    const current = await target.read();
    const owned = await this.ownedRules(tunnelId);
    const merged = mergeIngress(current, wanted, new Set(owned.keys()), options.force);
    // Said with the fix, as the stored routes' conflicts carry theirs in `existing`.
    const foreign = merged.plan.conflicts.map((c) => c.hostname);
    const them = foreign.length === 1 ? 'it' : 'them';
    const foreignWarning = foreign.length > 0 ? [`${foreign.join(', ')}: a rule not made by the supervisor routes ${them} elsewhere and is left as it is; sync with force to replace ${them}`] : [];
    merged.plan.conflicts.push(...shadowed);
    const adding = addingKey !== undefined && merged.plan.conflicts.find((c) => routeKey(c.hostname, c.path) === addingKey);
    if (adding && !options.dryRun) {
      throw conflict(`a rule not made by the supervisor already routes ${adding.hostname}${adding.path ? ` ${adding.path}` : ''} to ${adding.existing}; pass force to replace it`, { existing: adding.existing });
    }
    const problems = ingressProblems(merged.ingress);
    if (problems.length > 0) throw invalidInput(`the merged ingress would be invalid: ${problems.join('; ')}`, { problems });
    const changed = !sameIngress(current, merged.ingress);
    const { request, warnings: cnameWarnings } = await this.cnameChanges(tunnelId, merged, wanted, options);
    const { add, remove, change } = merged.plan;
    // A write with nothing in the plan would otherwise go (and restart cloudflared) unexplained.
    const orderWarning =
      changed && add.length + remove.length + change.length === 0
        ? ["the ingress is written though no route changes: its rules are put in the order every sync keeps (exact hostnames first, then deeper wildcards, the catch-all last; by name within each), which moves rules written out of it"]
        : [];
    const planWarnings = [...setupWarnings, ...foreignWarning, ...orderWarning, ...cnameWarnings];
    let written = false;
    let restarted = false;

    if (!options.dryRun) {
      // The owned set is rewritten only when it differs, and in one statement: a sync of 500
      // routes that changes nothing must not cost 500 INSERTs.
      const ownedChanged = merged.owned.length !== owned.size || merged.owned.some((r) => owned.get(routeKey(r.hostname, r.path)) !== r.service);
      const store = () => this.storeOwned(tunnelId, merged, ownedChanged, options.commit);
      // The zones' records are read before the ingress is written: a token Cloudflare refuses
      // would otherwise stop the sync after config.yml was rewritten and cloudflared restarted.
      if (changed && request.upserts.length + request.deletes.length > 0) await this.deps.dns.apply(actor, operation, { ...request, dryRun: true });
      if (changed) {
        // The write and its record go out together: until the rules written are stored as ours,
        // the next holder would take them for foreign ones (or drop them, owned but not wanted).
        ({ written, restarted } = await fenced(async () => {
          const outcome = await this.writeIngress(actor, operation, tunnelId, target, merged);
          await store();
          return outcome;
        }));
      } else await store();
    }

    if (options.dnsUnchecked !== undefined && options.dryRun) {
      const dns = this.deps.dns.unchecked(request, options.dnsUnchecked);
      return { ok: allInPlace(merged.plan, dns), tunnelId, mode: target.mode, where: target.where, dryRun: true, routes: merged.plan, changed, written, restarted, dns, warnings: planWarnings };
    }
    const { dns, warnings: leftWarnings } = leaveForeignCnames(await this.dnsAfter(written, restarted, () => this.deps.dns.apply(actor, operation, request)), request.deletes);
    // Said once, when the record is made (or would be), not on every sync after.
    const warnings = [...planWarnings, ...leftWarnings, ...(await this.certificateWarnings([...dns.plan.create, ...dns.plan.update.map((u) => u.after)].map((r) => r.name)))];
    return { ok: allInPlace(merged.plan, dns), tunnelId, mode: target.mode, where: target.where, dryRun: options.dryRun, routes: merged.plan, changed, written, restarted, dns, warnings };
  }

  /** The DNS part of a sync; when it fails after the ingress was written, the error says so (the sync is half done until run again). */
  private async dnsAfter(written: boolean, restarted: boolean, apply: () => Promise<DnsOutcome>): Promise<DnsOutcome> {
    try {
      return await apply();
    } catch (err) {
      if (!written || !(err instanceof SupervisorError)) throw err;
      const done = `the tunnel's ingress was written${restarted ? ' and cloudflared restarted' : ''} before this, so its routes are in place without their DNS records: sync again once this is fixed`;
      throw new SupervisorError(err.code, `${err.message}; ${done}`, { ...err.details, ingressWritten: true });
    }
  }

  /** Writes the merged ingress, and logs the write whether it went through or not. */
  private async writeIngress(actor: string, operation: string, tunnelId: string, target: IngressTarget, merged: Merged): Promise<IngressWrite> {
    const action = target.mode === 'local' ? 'tunnel.write' : 'tunnel.put';
    const counts = { added: merged.plan.add.length, removed: merged.plan.remove.length, changed: merged.plan.change.length, rules: merged.ingress.length };
    let outcome: IngressWrite;
    try {
      outcome = await target.write(merged.ingress);
    } catch (err) {
      await this.deps.changes.record(actor, operation, [{ action, target: tunnelId, outcome: 'error', detail: { where: target.where, ...counts, error: err instanceof Error ? err.message : String(err) } }]);
      throw err;
    }
    await this.deps.changes.record(actor, operation, [{ action, target: tunnelId, outcome: 'ok', detail: { where: target.where, ...counts, restarted: outcome.restarted } }]);
    return outcome;
  }

  /** The rules this tunnel's ingress now has from us, and what the operation stores with them, in one transaction. */
  private async storeOwned(tunnelId: string, merged: Merged, ownedChanged: boolean, commit: SyncOptions['commit']): Promise<void> {
    if (!ownedChanged && !commit) return;
    await this.deps.db.transaction(async (tx) => {
      if (ownedChanged) {
        await tx.query('DELETE FROM tunnel_owned_rules WHERE tunnel_id = $1', [tunnelId]);
        await tx.query('INSERT INTO tunnel_owned_rules (tunnel_id, hostname, path, service) SELECT $1, h, p, s FROM unnest($2::text[], $3::text[], $4::text[]) AS t(h, p, s)', [
          tunnelId,
          merged.owned.map((r) => r.hostname),
          merged.owned.map((r) => r.path),
          merged.owned.map((r) => r.service),
        ]);
      }
      await commit?.(tx);
    });
  }

  /**
   * The CNAMEs this sync makes and deletes. Their zones are found before anything is written:
   * a hostname outside the managed zones must neither stop every other route's sync nor leave
   * it half done, so it is routed with a warning and its record left alone (a route being added
   * with DNS for such a hostname is refused). A dry run without an API token cannot look, beyond the configured zone names.
   */
  private async cnameChanges(tunnelId: string, merged: Merged, wanted: Route[], options: SyncOptions): Promise<{ request: DnsRequest; warnings: string[] }> {
    const conflicted = new Set(merged.plan.conflicts.map((c) => routeKey(c.hostname, c.path)));
    const cname = tunnelTarget(tunnelId);
    const cnames = options.dns ? uniqueHostnames(wanted.filter((r) => r.dns && !conflicted.has(routeKey(r.hostname, r.path)))) : [];
    const deletes = options.dns ? this.droppedCnames(merged, options.removing, cname) : [];
    const names = [...cnames, ...deletes.map((d) => d.name)];
    // Without a token the zones cannot be read, but the configured names may already rule a hostname out.
    const unmanaged = options.dnsUnchecked !== undefined && options.dryRun ? new Set(names.filter(this.deps.outsideConfigured)) : await this.unmanaged(names);
    if (options.adding?.dns && unmanaged.has(options.adding.hostname)) {
      throw invalidInput(`no managed Cloudflare zone holds ${options.adding.hostname}, so its CNAME cannot be made; pass dns: false to route it and point its DNS at ${cname} yourself`, { field: 'hostname' });
    }
    const upserts = cnames.filter((h) => !unmanaged.has(h)).map((hostname) => desiredRecord({ type: 'CNAME', name: hostname, content: cname, proxied: true, ttl: 1, comment: `tunnel ${tunnelId}` }));
    const warnings = [...unmanaged]
      .filter((h) => wanted.some((r) => r.hostname === h))
      .map((h) => `no managed Cloudflare zone holds ${h}: the tunnel routes it, but its CNAME is not made here; point it at ${cname} where its DNS lives, or manage its zone (SUPERVISOR_CLOUDFLARE_ZONES)`);
    return { request: { upserts, deletes: deletes.filter((d) => !unmanaged.has(d.name)), force: options.force, dryRun: options.dryRun }, warnings };
  }

  /**
   * The CNAMEs of hostnames this sync takes out of the ingress (ours only, pointing at this
   * tunnel: planZone leaves any other record alone). A hostname another rule still serves
   * keeps its record; remove_tunnel_route with keepDns keeps it too.
   */
  private droppedCnames(merged: Merged, removing: SyncOptions['removing'], cname: string): DeleteTarget[] {
    const served = new Set(merged.ingress.flatMap((r) => (r.hostname ? [r.hostname] : [])));
    const dropped = new Set(merged.plan.remove.map((r) => r.hostname));
    if (removing) {
      if (removing.keepDns) dropped.delete(removing.hostname);
      else dropped.add(removing.hostname);
    }
    return [...dropped].filter((h) => !served.has(h)).map((name) => ({ name, type: 'CNAME', content: cname }));
  }

  /**
   * Universal SSL covers the zone apex and one level below it (`*.example.com`); a proxied
   * name deeper than that gets a TLS error until an advanced certificate covers it.
   */
  private async certificateWarnings(hostnames: string[]): Promise<string[]> {
    const warnings: string[] = [];
    for (const hostname of hostnames) {
      const zone = await this.deps.findZone(hostname);
      if (!zone) continue;
      const below = hostname.slice(0, -zone.name.length - 1).split('.').length;
      if (hostname !== zone.name && below > 1) {
        warnings.push(`${hostname} is ${below} levels below ${zone.name}: Universal SSL covers one level, so HTTPS needs an advanced certificate for it`);
      }
    }
    return warnings;
  }

  /** The hostnames no managed zone holds: their CNAMEs can be neither made nor deleted here. */
  async unmanaged(hostnames: string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const hostname of new Set(hostnames)) if (!(await this.deps.findZone(hostname))) out.add(hostname);
    return out;
  }

  /** This tunnel's rules from the last sync, each with the service it routes to (null: written before services were kept). */
  private async ownedRules(tunnelId: string): Promise<Map<string, string | null>> {
    const { rows } = await this.deps.db.query<{ hostname: string; path: string; service: string | null }>('SELECT hostname, path, service FROM tunnel_owned_rules WHERE tunnel_id = $1', [tunnelId]);
    return new Map(rows.map((r) => [routeKey(r.hostname, r.path), r.service]));
  }

  /** Rules synced before rules kept their service (an older version): they claim no port until the next sync writes it. */
  async rulesWithoutService(): Promise<number> {
    const { rows } = await this.deps.db.query<{ n: number | string }>('SELECT count(*) AS n FROM tunnel_owned_rules WHERE service IS NULL');
    return Number(rows[0]?.n ?? 0);
  }

  /**
   * Ports of this host that tunnel traffic goes to besides the allocations' own: routes added by
   * hand or imported, and rules the last sync wrote (a released allocation's stays until the next).
   */
  async portClaims(): Promise<PortClaim[]> {
    const { rows } = await this.deps.db.query<{ hostname: string; path: string; service: string; kind: string }>(
      `SELECT hostname, path, service, source AS kind FROM tunnel_routes
       UNION ALL SELECT o.hostname, o.path, o.service, 'synced' FROM tunnel_owned_rules o
        WHERE o.service IS NOT NULL AND NOT EXISTS (SELECT 1 FROM tunnel_routes r WHERE r.hostname = o.hostname AND r.path = o.path AND r.service = o.service)`,
    );
    const claims: PortClaim[] = [];
    for (const r of rows) {
      const port = localPort(r.service);
      const what = r.kind === 'synced' ? 'tunnel rule (as last synced)' : `${r.kind} tunnel route`;
      if (port !== undefined) claims.push({ port, hostname: r.hostname, by: `${what} ${r.hostname}${r.path ? ` ${r.path}` : ''} → ${r.service}` });
    }
    return claims;
  }
}

/** Several paths of one hostname need one CNAME. */
function uniqueHostnames(routes: Route[]): string[] {
  return [...new Set(routes.map((r) => r.hostname))];
}

const allInPlace = (routes: RoutePlan, dns: DnsOutcome): boolean => routes.conflicts.length === 0 && dns.plan.conflicts.length === 0 && dns.failed.length === 0;

/**
 * A CNAME to the tunnel the supervisor did not make (the record of a route an import adopted)
 * stays when its route goes, and is said, rather than a conflict only force could clear:
 * removing a route takes no force, and the route is gone either way.
 */
function leaveForeignCnames(dns: DnsOutcome, deletes: DeleteTarget[]): { dns: DnsOutcome; warnings: string[] } {
  const dropped = new Set(deletes.map((d) => d.name));
  const left = dns.plan.conflicts.filter((c) => dropped.has(c.name) && c.type === 'CNAME' && !c.existing.owned);
  if (left.length === 0) return { dns, warnings: [] };
  return {
    dns: { ...dns, plan: { ...dns.plan, conflicts: dns.plan.conflicts.filter((c) => !left.includes(c)) } },
    warnings: left.map((c) => `CNAME ${c.name} → ${c.existing.content} was not made by the supervisor, so it stays; \`supervisor dns delete ${c.name} --type CNAME --force\` (delete_dns_record with force) removes it`),
  };
}
