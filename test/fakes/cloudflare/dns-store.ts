// DNS records per zone, with the API's same-name conflict rules.
import { fail, newId, timestamp } from './envelope.js';
import { PROXIABLE_TYPES, type RecordFields } from './dns-validate.js';
import type { DnsRecord, Zone } from './types.js';

const SAME_NAME_DOC = 'For more details, refer to <https://developers.cloudflare.com/dns/manage-dns-records/troubleshooting/records-with-same-name/>.';

export const recordMissing = () => fail(404, 81044, 'Record does not exist.');

export class DnsStore {
  // Records are replaced, never mutated, so a copied array is a full snapshot (batch rollback).
  private readonly zones = new Map<string, DnsRecord[]>();

  all(zoneId: string): DnsRecord[] {
    return [...(this.zones.get(zoneId) ?? [])];
  }

  get(zoneId: string, id: string): DnsRecord {
    const record = this.zones.get(zoneId)?.find((r) => r.id === id);
    if (!record) throw recordMissing();
    return record;
  }

  create(zone: Zone, fields: RecordFields, seed: { id?: string; created_on?: string } = {}): DnsRecord {
    const records = this.all(zone.id);
    assertNoConflict(records, fields);
    const now = timestamp();
    const record = build(zone, fields, seed.id ?? newId(), seed.created_on ?? now, now);
    this.zones.set(zone.id, [...records, record]);
    return record;
  }

  update(zone: Zone, id: string, fields: RecordFields): DnsRecord {
    const existing = this.get(zone.id, id);
    const records = this.all(zone.id);
    assertNoConflict(records, fields, id);
    const record = build(zone, fields, id, existing.created_on, timestamp());
    this.zones.set(zone.id, records.map((r) => (r.id === id ? record : r)));
    return record;
  }

  remove(zoneId: string, id: string): DnsRecord {
    const existing = this.get(zoneId, id);
    this.zones.set(zoneId, this.all(zoneId).filter((r) => r.id !== id));
    return existing;
  }

  restore(zoneId: string, records: DnsRecord[]): void {
    this.zones.set(zoneId, records);
  }
}

function build(zone: Zone, f: RecordFields, id: string, createdOn: string, modifiedOn: string): DnsRecord {
  return {
    id,
    zone_id: zone.id,
    zone_name: zone.name,
    name: f.name,
    type: f.type,
    content: f.content,
    proxiable: PROXIABLE_TYPES.has(f.type),
    proxied: f.proxied,
    ttl: f.ttl,
    comment: f.comment,
    tags: f.tags,
    settings: {},
    meta: {},
    created_on: createdOn,
    modified_on: modifiedOn,
  };
}

/**
 * Same-name rules, in the order the API reports them:
 * - same type, name and content with the same ttl/proxied → 81058 "An identical record already exists.";
 *   with other settings → 81057 "Record already exists." (both codes are seen for duplicate content);
 * - a CNAME where an A, AAAA or CNAME of that name exists → 81053;
 * - an A/AAAA where a CNAME of that name exists → 81054.
 * TXT records may share a name with anything: the 81053 wording names only A, AAAA and CNAME.
 */
function assertNoConflict(records: DnsRecord[], f: RecordFields, selfId?: string): void {
  const sameName = records.filter((r) => r.id !== selfId && r.name === f.name);
  const twin = sameName.find((r) => r.type === f.type && r.content === f.content);
  if (twin) {
    if (twin.ttl === f.ttl && twin.proxied === f.proxied) throw fail(400, 81058, 'An identical record already exists.');
    throw fail(400, 81057, 'Record already exists.');
  }
  if (f.type === 'CNAME' && sameName.some((r) => PROXIABLE_TYPES.has(r.type))) {
    throw fail(400, 81053, `An A, AAAA, or CNAME record with that host already exists. ${SAME_NAME_DOC}`);
  }
  if ((f.type === 'A' || f.type === 'AAAA') && sameName.some((r) => r.type === 'CNAME')) {
    throw fail(400, 81054, `A CNAME record with that host already exists. ${SAME_NAME_DOC}`);
  }
}
