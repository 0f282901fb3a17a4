// GET /zones/{z}/dns_records filters and ordering (List DNS Records query parameters).
import { domainToASCII } from 'node:url';
import type { DnsRecord } from './types.js';

type Predicate = (r: DnsRecord) => boolean;

const lower = (s: string) => s.toLowerCase();

/** String operators shared by name.*, content.*, comment.* and tag.*; all case-insensitive per the docs. */
function textTest(op: string, wanted: string): ((value: string | null) => boolean) | undefined {
  const w = lower(wanted);
  const ops: Record<string, (v: string) => boolean> = {
    exact: (v) => v === w,
    contains: (v) => v.includes(w),
    startswith: (v) => v.startsWith(w),
    endswith: (v) => v.endsWith(w),
  };
  const test = ops[op];
  return test && ((value) => value !== null && test(lower(value)));
}

function textOperator(op: string, wanted: string, get: (r: DnsRecord) => string | null): Predicate | undefined {
  const test = textTest(op, wanted);
  return test && ((r) => test(get(r)));
}

function splitTag(tag: string): [string, string] {
  const i = tag.indexOf(':');
  return i < 0 ? [lower(tag), ''] : [lower(tag.slice(0, i)), tag.slice(i + 1)];
}

/** tag.<op>: present/absent take a tag name; the others take "<name>:<value>" and test the value. */
function tagOperator(op: string, wanted: string): Predicate | undefined {
  const [name, value] = splitTag(wanted);
  const values = (r: DnsRecord) => r.tags.map(splitTag).filter(([n]) => n === name).map(([, v]) => v);
  if (op === 'present') return (r) => values(r).length > 0;
  if (op === 'absent') return (r) => values(r).length === 0;
  const test = textTest(op, value);
  return test && ((r) => values(r).some(test));
}

/**
 * Builds the filter the query describes. `name` is an alias of name.exact (and `@` is the apex),
 * `content` of content.exact, `comment` of comment.exact, `tag` of tag.exact (or tag.present
 * without a value). `match=any` ORs the filters, default `all` ANDs them; tag filters are first
 * combined among themselves by `tag_match`.
 */
export function filterRecords(records: DnsRecord[], query: Record<string, string>, zoneName: string): DnsRecord[] {
  const filters: Predicate[] = [];
  const tagFilters: Predicate[] = [];
  for (const [key, raw] of Object.entries(query)) {
    const [field, op = 'exact'] = key.split('.', 2) as [string, string | undefined];
    const value = field === 'name' ? normaliseName(raw, zoneName) : raw;
    let predicate: Predicate | undefined;
    if (field === 'type' && op === 'exact') predicate = (r) => r.type === raw.toUpperCase();
    else if (field === 'proxied' && op === 'exact') predicate = (r) => r.proxied === (raw === 'true');
    else if (field === 'name') predicate = textOperator(op, value, (r) => r.name);
    else if (field === 'content') predicate = textOperator(op, value, (r) => r.content);
    else if (field === 'comment' && op === 'present') predicate = (r) => r.comment !== null;
    else if (field === 'comment' && op === 'absent') predicate = (r) => r.comment === null;
    else if (field === 'comment') predicate = textOperator(op, value, (r) => r.comment);
    else if (field === 'tag') {
      const tagOp = key === 'tag' && !raw.includes(':') ? 'present' : op;
      const tagPredicate = tagOperator(tagOp, raw);
      if (tagPredicate) tagFilters.push(tagPredicate);
    }
    if (predicate) filters.push(predicate);
  }
  if (tagFilters.length > 0) {
    filters.push(query.tag_match === 'any' ? (r) => tagFilters.some((p) => p(r)) : (r) => tagFilters.every((p) => p(r)));
  }
  if (filters.length === 0) return records;
  return records.filter(query.match === 'any' ? (r) => filters.some((p) => p(r)) : (r) => filters.every((p) => p(r)));
}

function normaliseName(raw: string, zoneName: string): string {
  const name = punycodeIfUnicode(lower(raw).replace(/\.$/, ''));
  return name === '@' ? zoneName : name;
}

const ORDER_FIELDS = new Set(['type', 'name', 'content', 'ttl', 'proxied']);

/** `order` ∈ type|name|content|ttl|proxied, `direction` asc|desc; without `order`, creation order. */
export function orderRecords(records: DnsRecord[], query: Record<string, string>): DnsRecord[] {
  const field = query.order;
  if (field === undefined || !ORDER_FIELDS.has(field)) return records;
  const key = (r: DnsRecord): string | number => {
    const v = r[field as 'type' | 'name' | 'content' | 'ttl' | 'proxied'];
    return typeof v === 'boolean' ? Number(v) : v;
  };
  const sorted = [...records].sort((a, b) => {
    const [x, y] = [key(a), key(b)];
    return x < y ? -1 : x > y ? 1 : 0;
  });
  return query.direction === 'desc' ? sorted.reverse() : sorted;
}

/** Stored names are punycode, so a Unicode name in a filter is looked up as punycode. */
function punycodeIfUnicode(name: string): string {
  if (!/[^\x00-\x7f]/.test(name)) return name;
  return domainToASCII(name) || name;
}
