// DNS record endpoints: list, create, get, overwrite, edit, delete.
import { ok, paginate } from './envelope.js';
import { filterRecords, orderRecords } from './dns-list.js';
import { createRecord, deleteRecord, patchRecord, replaceRecord, zoneOrRouteError, type DnsDeps } from './dns-ops.js';
import { bodyObject, type RequestContext, type Route } from './router.js';
import type { Zone } from './types.js';

export function dnsRoutes(deps: DnsDeps): Route[] {
  const zoneOf = (ctx: RequestContext): Zone => zoneOrRouteError(deps, ctx.params.zone ?? '', ctx.fullPath);
  const idOf = (ctx: RequestContext): string => ctx.params.id ?? '';
  return [
    {
      method: 'GET',
      pattern: '/zones/:zone/dns_records',
      access: 'dns',
      handle: (ctx) => {
        const zone = zoneOf(ctx);
        const matching = orderRecords(filterRecords(deps.records.all(zone.id), ctx.query, zone.name), ctx.query);
        // List DNS Records: per_page default 100, 1..5,000,000.
        const { page, info } = paginate(matching, ctx.query, { defaultPerPage: 100, minPerPage: 1, maxPerPage: 5_000_000 });
        return ok(page, info);
      },
    },
    {
      method: 'POST',
      pattern: '/zones/:zone/dns_records',
      access: 'dns',
      handle: (ctx) => ok(createRecord(deps, zoneOf(ctx), bodyObject(ctx.body))),
    },
    {
      method: 'GET',
      pattern: '/zones/:zone/dns_records/:id',
      access: 'dns',
      handle: (ctx) => ok(deps.records.get(zoneOf(ctx).id, idOf(ctx))),
    },
    {
      method: 'PUT',
      pattern: '/zones/:zone/dns_records/:id',
      access: 'dns',
      handle: (ctx) => ok(replaceRecord(deps, zoneOf(ctx), idOf(ctx), bodyObject(ctx.body))),
    },
    {
      method: 'PATCH',
      pattern: '/zones/:zone/dns_records/:id',
      access: 'dns',
      handle: (ctx) => ok(patchRecord(deps, zoneOf(ctx), idOf(ctx), bodyObject(ctx.body))),
    },
    {
      method: 'DELETE',
      pattern: '/zones/:zone/dns_records/:id',
      access: 'dns',
      // Delete DNS Record answers only the id.
      handle: (ctx) => ok({ id: deleteRecord(deps, zoneOf(ctx), idOf(ctx)).id }),
    },
  ];
}
