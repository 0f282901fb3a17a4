// The four record mutations, shared by the single-record endpoints and the batch endpoint.
import { routeError } from './envelope.js';
import { recordMissing, type DnsStore } from './dns-store.js';
import { validateFields } from './dns-validate.js';
import type { ZoneStore } from './zones.js';
import type { DnsRecord, Zone } from './types.js';

export interface DnsDeps {
  zones: ZoneStore;
  records: DnsStore;
}

/** An unknown zone id fails routing, like any identifier the API cannot resolve. */
export function zoneOrRouteError(deps: DnsDeps, zoneId: string, fullPath: string): Zone {
  const zone = deps.zones.get(zoneId);
  if (!zone) throw routeError(fullPath);
  return zone;
}

export function createRecord(deps: DnsDeps, zone: Zone, body: Record<string, unknown>): DnsRecord {
  return deps.records.create(zone, validateFields(body, zone.name));
}

/** PUT overwrites: fields left out take their defaults, not the old values. */
export function replaceRecord(deps: DnsDeps, zone: Zone, id: string, body: Record<string, unknown>): DnsRecord {
  deps.records.get(zone.id, id);
  return deps.records.update(zone, id, validateFields(body, zone.name));
}

/** PATCH merges the given fields onto the record, then validates the result as a whole. */
export function patchRecord(deps: DnsDeps, zone: Zone, id: string, body: Record<string, unknown>): DnsRecord {
  const { type, name, content, ttl, proxied, comment, tags } = deps.records.get(zone.id, id);
  const merged: Record<string, unknown> = { type, name, content, ttl, proxied, comment, tags };
  for (const [key, value] of Object.entries(body)) if (key !== 'id') merged[key] = value;
  return deps.records.update(zone, id, validateFields(merged, zone.name));
}

export function deleteRecord(deps: DnsDeps, zone: Zone, id: string): DnsRecord {
  return deps.records.remove(zone.id, id);
}

/** Batch operations name their record in the body; a missing id can only mean a missing record. */
export function idOf(op: Record<string, unknown>): string {
  if (typeof op.id !== 'string') throw recordMissing();
  return op.id;
}
