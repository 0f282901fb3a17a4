// The Cloudflare domain as the operations see it: DNS records, tunnel routes, sync, gc,
// import and verify, wired to one client (one rate budget) and one token source.
import { adminPrincipal } from '../core/principal.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { conflict, invalidInput, notFound, SupervisorError } from '../core/errors.js';
import { notConfigured, type Missing } from './configured.js';
import { WriteFence } from './write-fence.js';
import type { PortService } from '../ports/index.js';
import { readStamp, stillCurrent, type ReadStamp, type SecretsService } from '../secrets/index.js';
import type { CloudflareSettings } from './settings.js';
import { ChangeLog, RecordMirror } from './changes.js';
import { CloudflareClient, type DnsRecord } from './client.js';
import { DnsService, type DnsOutcome, type DnsRequest } from './dns.js';
import { collectGarbage, type GcOutcome } from './gc.js';
import { importCloudflare, type ImportOutcome } from './import.js';
import { routeKey, type Route } from './ingress-merge.js';
import { CATCH_ALL, ingressProblems, normalizeHostname } from './ingress-rules.js';
import { readLocalConfig } from './local-config.js';
import { isOwned, viewOf, type RecordView } from './records.js';
import { TunnelService, type SyncOutcome, type TunnelSetup } from './tunnel.js';
import { LocalConfigTarget, RemoteConfigTarget } from './tunnel-target.js';
import { verifyCloudflare, type VerifyReport } from './verify.js';
import { ZoneDirectory } from './zones.js';

export const API_TOKEN_SECRET = 'meta/cloudflare/api_token';
/** A token stored on another daemon is picked up within this long while its writes cannot be heard (else at once); every fetch is an audited secret read. */
const TOKEN_CACHE_MS = 10_000;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKEN_FIX = `\`supervisor secrets set ${API_TOKEN_SECRET}\` with the token on stdin (a Cloudflare API token with Zone Read and DNS Edit on the zones, and Cloudflare Tunnel Edit for remote tunnels)`;
const TOKEN_MISSING: Missing = { what: 'api_token', fix: TOKEN_FIX, restart: false };

/** What an operation needs configured before it can run. */
interface Needs {
  token?: boolean;
  tunnel?: boolean;
  zones?: boolean;
}

export interface CloudflareDeps {
  settings: CloudflareSettings;
  db: Db;
  clock: Clock;
  secrets: Pick<SecretsService, 'get' | 'changeMark' | 'exists'>;
  ports: Pick<PortService, 'routedAllocations'>;
  /** Tests shorten retry waits. */
  sleep?: (ms: number) => Promise<void>;
}

export interface RouteInput {
  hostname: string;
  path?: string;
  service: string;
  dns: boolean;
}

export class CloudflareService {
  readonly client: CloudflareClient;
  readonly zones: ZoneDirectory;
  readonly dns: DnsService;
  readonly tunnel: TunnelService;
  readonly changes: ChangeLog;
  private readonly mirror: RecordMirror;
  private token: { value: string; stamp: ReadStamp } | undefined;

  constructor(private readonly deps: CloudflareDeps) {
    const { settings: config, db, clock } = deps;
    this.client = new CloudflareClient({ baseUrl: config.cloudflareApiUrl, token: () => this.apiToken(), clock, sleep: deps.sleep, tokenSource: TOKEN_FIX });
    this.zones = new ZoneDirectory(this.client, () => deps.settings.cloudflareZones, clock);
    this.changes = new ChangeLog(db, clock);
    this.mirror = new RecordMirror(db, clock);
    // A write a dead daemon sent can land until its attempt times out; a live writer says it is alive every 5 s.
    const fence = new WriteFence(db, { landMs: this.client.attemptTimeoutMs + 5_000, heartbeatMs: 5_000, pollMs: 250 });
    this.dns = new DnsService({ client: this.client, zones: this.zones, db, changes: this.changes, mirror: this.mirror, fence });
    this.tunnel = new TunnelService({
      db,
      clock,
      dns: this.dns,
      changes: this.changes,
      fence,
      setup: () => this.setup(),
      allocations: () => deps.ports.routedAllocations(),
      findZone: (hostname) => this.zones.find(hostname),
      outsideConfigured: (hostname) => this.zones.outsideConfigured(hostname),
    });
  }

  private async apiToken(): Promise<string> {
    if (this.tokenCurrent()) return this.token!.value;
    const stamp = readStamp(this.deps.secrets, API_TOKEN_SECRET, this.deps.clock.now().getTime());
    const value = await this.storedToken();
    if (value === undefined) throw notConfigured([TOKEN_MISSING]);
    this.token = { value, stamp };
    return value;
  }

  /** Whether the token read last is still the stored one: a token just stored is used by the next call (`secrets set`, then `cloudflare verify`). */
  private tokenCurrent(): boolean {
    return this.token !== undefined && stillCurrent(this.deps.secrets, API_TOKEN_SECRET, this.token.stamp, this.deps.clock.now().getTime(), TOKEN_CACHE_MS);
  }

  private async storedToken(): Promise<string | undefined> {
    if (!(await this.deps.secrets.exists(API_TOKEN_SECRET))) return undefined;
    try {
      return (await this.deps.secrets.get(adminPrincipal('system:cloudflare'), { path: API_TOKEN_SECRET })).value;
    } catch (err) {
      if (err instanceof SupervisorError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  private async hasToken(): Promise<boolean> {
    if (this.tokenCurrent()) return true;
    return (await this.storedToken()) !== undefined;
  }

  /**
   * Everything `needs` asks for that is missing, in one not_configured refusal. Zones are
   * checked only with a token (listing them needs one); a token Cloudflare refuses is not
   * "missing" and fails later as not_configured, saying Cloudflare refused it.
   */
  private async requireConfigured(needs: Needs): Promise<void> {
    const missing: Missing[] = [];
    const token = needs.token || needs.zones ? await this.hasToken() : false;
    if (needs.token && !token) missing.push(TOKEN_MISSING);
    if (needs.tunnel) {
      const known = await this.tunnelKnown();
      if ('problem' in known) missing.push(known.problem);
    }
    if (needs.zones && token) {
      const problem = await this.zonesProblem();
      if (problem) missing.push(problem);
    }
    if (missing.length > 0) throw notConfigured(missing);
  }

  private async zonesProblem(): Promise<Missing | undefined> {
    const listed = this.deps.settings.cloudflareZones.length > 0;
    try {
      if ((await this.zones.all()).length > 0) return undefined;
    } catch (err) {
      // A zone named in SUPERVISOR_CLOUDFLARE_ZONES that the token cannot see.
      if (!(err instanceof SupervisorError) || err.code !== 'not_found') throw err;
      return { what: 'zones', fix: `${err.message}: give the token Zone Read and DNS Edit on it, or fix the zone list: \`supervisor config set cloudflareZones <a.com,b.com>\``, restart: false };
    }
    return listed
      ? undefined
      : { what: 'zones', fix: 'the API token sees no zone: give it Zone Read and DNS Edit on the zones to manage (Cloudflare dashboard → API Tokens), or list them: `supervisor config set cloudflareZones <a.com,b.com>`', restart: false };
  }

  /**
   * The tunnel to manage, from the settings and (local mode) config.yml, read once: its id and
   * the one the file runs; or what is missing, with the fix.
   */
  private async tunnelKnown(): Promise<{ tunnelId: string; inFile?: string } | { problem: Missing }> {
    const { settings: config } = this.deps;
    const setting = 'set the tunnel id: `supervisor config set cloudflareTunnelId <uuid>` (set_setting over MCP)';
    if (config.cloudflareTunnelMode === 'remote') {
      if (config.cloudflareTunnelId) return { tunnelId: config.cloudflareTunnelId };
      return { problem: { what: 'tunnel_id', fix: `${setting}; remote-managed tunnels are addressed by UUID (\`cloudflared tunnel list\` shows it)`, restart: false } };
    }
    const file = await readLocalConfig(config.cloudflaredConfig);
    const inFile = file.tunnel?.toLowerCase();
    // A sync would write a file holding the routes alone and restart cloudflared as if they were
    // served: a mistyped cloudflaredConfig, or cloudflared running from ~/.cloudflared.
    if (config.cloudflareTunnelId) {
      if (file.exists) return { tunnelId: config.cloudflareTunnelId, inFile };
      return {
        problem: {
          what: 'config_file',
          fix: `${config.cloudflaredConfig} does not exist: point cloudflaredConfig at the config.yml cloudflared runs from (\`supervisor config set cloudflaredConfig /etc/cloudflared/config.yml\`), or create it with its tunnel: and credentials-file: lines`,
          restart: false,
        },
      };
    }
    if (inFile && UUID.test(inFile)) return { tunnelId: inFile, inFile };
    const says = file.tunnel ? ` (its tunnel: key says ${JSON.stringify(file.tunnel)}, a name, not the UUID)` : file.exists ? '' : ' (the file does not exist)';
    return { problem: { what: 'tunnel_id', fix: `give ${config.cloudflaredConfig} a \`tunnel: <uuid>\` line${says} — it is read on every sync — or ${setting}; \`cloudflared tunnel list\` shows the UUID`, restart: false } };
  }

  /** The routes with what is applied; nothing is applied while no tunnel is configured. */
  async listRoutes(): Promise<Array<Route & { applied: { ingress: boolean; dns: boolean } }>> {
    const known = await this.tunnelKnown();
    const routes = await this.tunnel.routesWithStatus('tunnelId' in known ? known.tunnelId : undefined);
    // A hostname no managed zone holds gets no CNAME here (each sync warns): shown as not wanted,
    // rather than as wanted and never made. Without a token only the configured zone names can tell.
    const named = routes.filter((r) => r.dns).map((r) => r.hostname);
    const outside = (await this.hasToken()) ? await this.outsideZones(named) : new Set(named.filter((h) => this.zones.outsideConfigured(h)));
    return routes.map((r) => (outside.has(r.hostname) ? { ...r, dns: false } : r));
  }

  /** The hostnames no managed zone holds; none when the zones cannot be listed (a refused token says so on the calls that need them). */
  private async outsideZones(hostnames: string[]): Promise<Set<string>> {
    try {
      return await this.tunnel.unmanaged(hostnames);
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      return new Set();
    }
  }

  /** The tunnel to manage and where its ingress lives; not_configured, with the fix, when unknown. */
  private async setup(): Promise<TunnelSetup> {
    const { settings: config } = this.deps;
    const known = await this.tunnelKnown();
    if ('problem' in known) throw notConfigured([known.problem]);
    const { tunnelId, inFile } = known;
    if (config.cloudflareTunnelMode === 'local') {
      // cloudflared serves the file's tunnel; the CNAMEs would point at the setting's.
      const warnings =
        inFile && UUID.test(inFile) && inFile !== tunnelId.toLowerCase()
          ? [`${config.cloudflaredConfig} runs tunnel ${inFile}, but cloudflareTunnelId is ${tunnelId}: the CNAMEs point at ${tunnelId} while cloudflared serves ${inFile}; make them the same (\`supervisor config set cloudflareTunnelId ${inFile}\`, or fix the file's tunnel: line)`]
          : [];
      return { tunnelId, target: new LocalConfigTarget(config.cloudflaredConfig, config.cloudflaredRestart), warnings };
    }
    return { tunnelId, target: new RemoteConfigTarget(this.client, await this.accountId(), tunnelId) };
  }

  private async accountId(): Promise<string> {
    if (this.deps.settings.cloudflareAccountId) return this.deps.settings.cloudflareAccountId;
    const [zone] = await this.zones.all();
    if (!zone) throw notConfigured([{ what: 'account_id', fix: '`supervisor config set cloudflareAccountId <id>` (set_setting over MCP); there is no zone to take it from', restart: false }]);
    return zone.account.id;
  }

  /**
   * Before a tunnel sync: a dry run in local mode needs no token (the ingress is a local
   * file), and then says the DNS records were not checked; anything else needs it all.
   */
  private async prepareSync(dryRun: boolean, dns: boolean): Promise<{ dnsUnchecked?: string }> {
    const local = this.deps.settings.cloudflareTunnelMode === 'local';
    if (dryRun && local && !(await this.hasToken())) {
      await this.requireConfigured({ tunnel: true });
      return { dnsUnchecked: `no API token; store one with ${TOKEN_FIX}` };
    }
    // Local mode without DNS writes config.yml and restarts cloudflared: no call to Cloudflare, so no token.
    await this.requireConfigured({ token: dns || !local, tunnel: true, zones: dns });
    return {};
  }

  async verify(): Promise<VerifyReport> {
    await this.requireConfigured({ token: true });
    const remote = this.deps.settings.cloudflareTunnelMode === 'remote';
    return verifyCloudflare({
      client: this.client,
      zones: () => this.zones.refresh(),
      remoteTunnel: remote ? async () => ({ accountId: await this.accountId(), tunnelId: (await this.setup()).tunnelId }) : undefined,
      accounts: async () => {
        const configured = this.deps.settings.cloudflareAccountId;
        return configured ? [configured] : [...new Set((await this.zones.refresh()).map((z) => z.account.id))];
      },
    });
  }

  /** Applies DNS changes of one operation; conflicts and failed records of a single-record call are errors. */
  async changeRecords(actor: string, operation: string, req: DnsRequest): Promise<DnsOutcome> {
    if (!req.force) await this.refuseRoutedNames([...req.upserts.map((r) => r.name), ...req.deletes.map((d) => d.name)]);
    if (req.dryRun && !(await this.hasToken())) return this.dns.unchecked(req, `no API token; store one with ${TOKEN_FIX}`);
    await this.requireConfigured({ token: true, zones: true });
    const outcome = await this.dns.apply(actor, operation, req);
    if (req.dryRun) return outcome;
    const [refused] = outcome.plan.conflicts;
    if (refused) throw conflict(refused.reason, { name: refused.name, type: refused.type, existing: refused.existing });
    const [failed] = outcome.failed;
    if (failed) throw new SupervisorError(failed.code === 'internal' ? 'invalid_input' : failed.code, `Cloudflare refused ${failed.action} of ${failed.type} ${failed.name}: ${failed.error}`, { failed: outcome.failed });
    return outcome;
  }

  /**
   * A tunnel route's hostname has its CNAME to the tunnel made by the sync: a record written or
   * deleted by hand there would take the route's traffic elsewhere until the next sync quietly
   * put it back. Refused unless forced; the route is the thing to change.
   */
  private async refuseRoutedNames(names: string[]): Promise<void> {
    const routes = (await this.tunnel.routes()).filter((r) => r.dns);
    const route = routes.find((r) => names.includes(r.hostname));
    if (route) {
      // A port allocation's hostname is changed on the allocation; remove_tunnel_route refuses it.
      const allocated = route.source === 'allocation' ? (await this.deps.ports.routedAllocations()).find((a) => a.hostname === route.hostname) : undefined;
      const change = allocated
        ? `change the hostname of port allocation ${allocated.project}/${allocated.service} (allocate_port with hostname null, or release_port)`
        : 'change or remove the route (remove_tunnel_route)';
      throw conflict(`${route.hostname} is a tunnel route's hostname, whose CNAME sync_tunnel keeps pointing at the tunnel; ${change}, or pass force`, { name: route.hostname });
    }
  }

  async listRecords(filter: { zone?: string; name?: string; type?: string; ownedOnly: boolean }): Promise<RecordView[]> {
    await this.requireConfigured({ token: true, zones: true });
    const wanted = filter.zone?.toLowerCase().replace(/\.$/, '');
    let zones = (await this.zones.all()).filter((z) => !wanted || z.name === wanted);
    // A zone added in Cloudflare since the cache was filled: look again before saying no.
    if (wanted && zones.length === 0) zones = (await this.zones.refresh()).filter((z) => z.name === wanted);
    if (wanted && zones.length === 0) throw notFound(`zone ${filter.zone} is not managed; zones: ${(await this.zones.all()).map((z) => z.name).join(', ')}`);
    const query = { ...(filter.name ? { 'name.exact': normalizeHostname(filter.name) } : {}), ...(filter.type ? { type: filter.type } : {}) };
    const out: RecordView[] = [];
    for (const zone of zones) {
      const records: DnsRecord[] = await this.client.listDnsRecords(zone.id, query, 5000);
      out.push(...records.filter((r) => !filter.ownedOnly || isOwned(r)).map((r) => viewOf(zone.name, r)));
    }
    return out.sort((a, b) => a.name.localeCompare(b.name) || a.type.localeCompare(b.type) || (a.id ?? '').localeCompare(b.id ?? ''));
  }

  async sync(actor: string, input: { dryRun: boolean; force: boolean; dns: boolean }): Promise<SyncOutcome> {
    const unchecked = await this.prepareSync(input.dryRun, input.dns);
    return this.tunnel.sync(actor, 'sync_tunnel', { ...input, ...unchecked });
  }

  /** Adds (or changes) a manual route and syncs; the route is stored only if the sync succeeds. */
  async addRoute(actor: string, input: RouteInput & { dryRun: boolean; force: boolean }): Promise<SyncOutcome & { created: boolean }> {
    const route: Route = { hostname: normalizeHostname(input.hostname), path: input.path ?? '', service: input.service, source: 'manual', project: null, dns: input.dns };
    const problems = ingressProblems([{ hostname: route.hostname, ...(route.path ? { path: route.path } : {}), service: route.service }, CATCH_ALL]);
    if (problems.length > 0) throw invalidInput(`invalid route: ${problems.join('; ')}`);
    const unchecked = await this.prepareSync(input.dryRun, true);
    const allocated = (await this.deps.ports.routedAllocations()).find((a) => a.hostname === route.hostname && route.path === '');
    if (allocated) {
      throw conflict(`${route.hostname} already routes to port ${allocated.port} of ${allocated.project}/${allocated.service} (its allocation's hostname); release or re-host that allocation instead`, { project: allocated.project, service: allocated.service });
    }
    const existing = (await this.tunnel.storedRoutes()).find((r) => routeKey(r.hostname, r.path) === routeKey(route.hostname, route.path));
    const now = this.deps.clock.now();
    const outcome = await this.tunnel.sync(actor, 'add_tunnel_route', {
      ...unchecked,
      dryRun: input.dryRun,
      force: input.force,
      dns: true,
      adding: route,
      commit: (tx) =>
        tx.query(
          `INSERT INTO tunnel_routes (hostname, path, service, dns, source, created_at, created_by) VALUES ($1, $2, $3, $4, 'manual', $5, $6)
           ON CONFLICT (hostname, path) DO UPDATE SET service = EXCLUDED.service, dns = EXCLUDED.dns`,
          [route.hostname, route.path, route.service, route.dns, now, actor],
        ).then(() => undefined),
    });
    return { ...outcome, created: !existing };
  }

  async removeRoute(actor: string, input: { hostname: string; path?: string; keepDns: boolean; dryRun: boolean }): Promise<SyncOutcome & { removed: boolean }> {
    const hostname = normalizeHostname(input.hostname);
    const path = input.path ?? '';
    const stored = (await this.tunnel.storedRoutes()).find((r) => routeKey(r.hostname, r.path) === routeKey(hostname, path));
    if (!stored) {
      const allocated = (await this.deps.ports.routedAllocations()).find((a) => a.hostname === hostname);
      if (allocated) throw conflict(`${hostname} is the hostname of port allocation ${allocated.project}/${allocated.service}; release_port it (or allocate it without a hostname) and sync_tunnel`);
      // The hostname's routes under other paths: a path route is removed by its path.
      const paths = (await this.tunnel.storedRoutes()).filter((r) => r.hostname === hostname).map((r) => r.path || '(no path)');
      const others = paths.length > 0 ? `; ${hostname} has ${paths.length === 1 ? 'a route' : 'routes'} with path ${paths.join(', ')}: give it as path` : '';
      throw notFound(`no tunnel route ${hostname}${path ? ` ${path}` : ''}${others}${others ? '' : '; list_tunnel_routes shows them'}`);
    }
    const unchecked = await this.prepareSync(input.dryRun, true);
    const outcome = await this.tunnel.sync(actor, 'remove_tunnel_route', {
      ...unchecked,
      dryRun: input.dryRun,
      force: false,
      dns: true,
      removing: { hostname, path, keepDns: input.keepDns },
      commit: (tx) => tx.query('DELETE FROM tunnel_routes WHERE hostname = $1 AND path = $2', [hostname, path]).then(() => undefined),
    });
    return { ...outcome, removed: !input.dryRun };
  }

  async gc(actor: string, input: { apply: boolean }): Promise<GcOutcome> {
    await this.requireConfigured({ token: true, tunnel: true, zones: true });
    const { tunnelId } = await this.setup();
    return collectGarbage({ client: this.client, zones: this.zones, dns: this.dns }, actor, { tunnelId, routes: await this.tunnel.routes(), apply: input.apply });
  }

  async import(actor: string, input: { dryRun: boolean; tunnel: boolean }): Promise<ImportOutcome> {
    await this.requireConfigured({ token: true, tunnel: input.tunnel, zones: true });
    const tunnel = input.tunnel ? await this.setup() : null;
    return importCloudflare({ db: this.deps.db, clock: this.deps.clock, client: this.client, zones: this.zones, mirror: this.mirror }, actor, {
      dryRun: input.dryRun,
      tunnel,
      routes: await this.tunnel.routes(),
    });
  }
}
