import { notFound } from '../core/errors.js';
import type { Clock } from '../core/clock.js';
import type { CloudflareClient, Zone } from './client.js';

/** Zones change rarely; a hostname outside every known zone triggers one refresh before failing. */
const REFRESH_AFTER_MS = 60_000;

/**
 * The zones the supervisor manages: the configured names, or every zone the token can read.
 * A hostname belongs to the zone with the longest matching suffix, so with both
 * example.com and dev.example.com, api.dev.example.com lands in dev.example.com.
 */
export class ZoneDirectory {
  private cache: { zones: Zone[]; at: number; names: readonly string[] } | undefined;
  private loading: Promise<Zone[]> | undefined;

  constructor(
    private readonly client: CloudflareClient,
    /** The configured zone names as they are now (a live setting): the cache is dropped when they change. */
    private readonly configured: () => readonly string[],
    private readonly clock: Clock,
  ) {}

  private get names(): readonly string[] {
    return this.configured();
  }

  async all(): Promise<Zone[]> {
    if (this.cache && this.cache.names === this.names) return this.cache.zones;
    return this.load();
  }

  /** Reads the zones again with the current token (cloudflare_verify must not answer from the cache). */
  refresh(): Promise<Zone[]> {
    return this.load();
  }

  /** The zone a hostname (or `*.` wildcard) lives in, or undefined when no managed zone holds it. */
  async find(hostname: string): Promise<Zone | undefined> {
    const found = longestSuffix(await this.all(), hostname);
    if (found || !this.cache || this.clock.now().getTime() - this.cache.at <= REFRESH_AFTER_MS) return found;
    return longestSuffix(await this.load(), hostname);
  }

  /**
   * Whether the configured zone names alone show that no managed zone holds the hostname: known
   * without a call (a dry run without a token), false when no names are configured (every zone
   * the token reads is managed, and they are unknown until it does).
   */
  outsideConfigured(hostname: string): boolean {
    const host = hostname.toLowerCase();
    return this.names.length > 0 && !this.names.some((name) => host === name || host.endsWith(`.${name}`));
  }

  /** The zone a hostname (or `*.` wildcard) lives in; not_found naming the managed zones when none holds it. */
  async zoneFor(hostname: string): Promise<Zone> {
    const found = await this.find(hostname);
    if (found) return found;
    const known = (this.cache?.zones ?? []).map((z) => z.name);
    throw notFound(`no managed Cloudflare zone holds ${hostname}; zones: ${known.join(', ') || 'none'}${this.names.length ? ' (SUPERVISOR_CLOUDFLARE_ZONES)' : ''}`, { hostname, zones: known });
  }

  private load(): Promise<Zone[]> {
    const names = this.names;
    this.loading ??= this.fetch().then(
      (zones) => {
        this.cache = { zones, at: this.clock.now().getTime(), names };
        this.loading = undefined;
        return zones;
      },
      (err: unknown) => {
        this.loading = undefined;
        throw err;
      },
    );
    return this.loading;
  }

  private async fetch(): Promise<Zone[]> {
    if (this.names.length === 0) return this.client.listZones();
    const zones: Zone[] = [];
    const missing: string[] = [];
    for (const name of this.names) {
      const [zone] = await this.client.listZones(name);
      if (zone) zones.push(zone);
      else missing.push(name);
    }
    // Every zone the token cannot see, in one answer, and the ones it can (verify_cloudflare shows them).
    if (missing.length > 0) {
      const which = missing.length === 1 ? `zone ${missing[0]} (SUPERVISOR_CLOUDFLARE_ZONES) is` : `zones ${missing.join(', ')} (SUPERVISOR_CLOUDFLARE_ZONES) are`;
      throw notFound(`Cloudflare ${which} not visible to the API token`, { zone: missing[0], missing, visible: zones.map((z) => z.name) });
    }
    return zones;
  }
}

function longestSuffix(zones: Zone[], hostname: string): Zone | undefined {
  const host = hostname.toLowerCase();
  let best: Zone | undefined;
  for (const zone of zones) {
    const matches = host === zone.name || host.endsWith(`.${zone.name}`);
    if (matches && (!best || zone.name.length > best.name.length)) best = zone;
  }
  return best;
}
