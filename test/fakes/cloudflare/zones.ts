// Zones: the store and GET /zones, GET /zones/{id}.
import { newId, ok, paginate, routeError, timestamp } from './envelope.js';
import type { Route } from './router.js';
import type { Zone } from './types.js';

export class ZoneStore {
  private readonly zones: Zone[] = [];

  add(name: string, opts: { id?: string; accountId?: string } = {}): Zone {
    const now = timestamp();
    const accountId = opts.accountId ?? newId();
    const zone: Zone = {
      id: opts.id ?? newId(),
      name: name.toLowerCase().replace(/\.$/, ''),
      status: 'active',
      paused: false,
      type: 'full',
      development_mode: 0,
      name_servers: ['ada.ns.cloudflare.com', 'lee.ns.cloudflare.com'],
      original_name_servers: null,
      original_registrar: null,
      original_dnshost: null,
      created_on: now,
      modified_on: now,
      activated_on: now,
      account: { id: accountId, name: `account ${accountId}` },
      owner: { id: null, type: 'user', email: null },
      permissions: ['#dns_records:edit', '#dns_records:read', '#zone:read'],
      plan: { id: '0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee', name: 'Free Website', price: 0, currency: 'USD', is_subscribed: false, legacy_id: 'free' },
      meta: { step: 2, phishing_detected: false },
    };
    this.zones.push(zone);
    return zone;
  }

  get(id: string): Zone | undefined {
    return this.zones.find((z) => z.id === id);
  }

  all(): Zone[] {
    return [...this.zones];
  }
}

export function zoneRoutes(zones: ZoneStore): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/zones',
      access: 'zone',
      handle: ({ query }) => {
        const matching = zones
          .all()
          .filter((z) => query.name === undefined || z.name === query.name.toLowerCase())
          .filter((z) => query['account.id'] === undefined || z.account.id === query['account.id'])
          .filter((z) => query.status === undefined || z.status === query.status);
        // List Zones: per_page default 20, 5..50.
        const { page, info } = paginate(matching, query, { defaultPerPage: 20, minPerPage: 5, maxPerPage: 50 });
        return ok(page, info);
      },
    },
    {
      method: 'GET',
      pattern: '/zones/:zone',
      access: 'zone',
      handle: ({ params, fullPath }) => {
        const zone = zones.get(params.zone ?? '');
        if (!zone) throw routeError(fullPath);
        return ok(zone);
      },
    },
  ];
}
