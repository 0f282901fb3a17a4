// DNS records as the supervisor wants them, compared with what Cloudflare has, giving the
// changes for one zone. Pure: no I/O, so the plan a dry run shows is the plan apply runs.
import { isIP } from 'node:net';
import { invalidInput, SupervisorError } from '../core/errors.js';
import type { DnsRecord, DnsRecordInput } from './client.js';
import { normalizeHostname } from './ingress-rules.js';

export const RECORD_TYPES = ['A', 'AAAA', 'CNAME'] as const;
export type RecordType = (typeof RECORD_TYPES)[number];

/**
 * Ownership lives in the record's comment, so it survives a lost database and anyone
 * looking in the Cloudflare dashboard sees who manages the record (ExternalDNS keeps a TXT
 * twin instead; a comment costs no extra record). A user comment follows the mark.
 */
export const OWNER_MARK = 'managed-by:supervisor';
/** Cloudflare's comment limit on the Free plan. */
export const COMMENT_MAX = 100;

export interface DesiredRecord {
  type: RecordType;
  name: string;
  content: string;
  proxied: boolean;
  /** 1 = automatic. Ignored (reported as 1) for proxied records. */
  ttl: number;
  /** The user's part of the comment, without the ownership mark. */
  comment: string | null;
}

/** A record as plans and answers show it: Cloudflare's fields, its zone, and whether it is ours. */
export type RecordView = Pick<DnsRecord, 'type' | 'name' | 'content' | 'proxied' | 'ttl' | 'comment'> & {
  /** Absent for a record not created yet. */
  id?: string;
  zone: string;
  owned: boolean;
};

export type RecordOp =
  | { action: 'create'; zone: string; record: DesiredRecord }
  | { action: 'update'; zone: string; id: string; before: DnsRecord; record: DesiredRecord }
  | { action: 'delete'; zone: string; id: string; before: DnsRecord };

export interface RecordConflict {
  name: string;
  type: string;
  reason: string;
  existing: RecordView;
}

export interface DeleteTarget {
  name: string;
  type?: RecordType;
  /** Only records with this content (compared case-insensitively). */
  content?: string;
}

export interface ZonePlan {
  ops: RecordOp[];
  conflicts: RecordConflict[];
  unchanged: number;
}

export const isOwned = (r: { comment: string | null }): boolean => r.comment === OWNER_MARK || (r.comment?.startsWith(`${OWNER_MARK} `) ?? false);

export function ownedComment(user: string | null): string {
  return user ? `${OWNER_MARK} ${user}` : OWNER_MARK;
}

/** Checks and canonicalises one wanted record; bad input is refused before any API call. */
export function desiredRecord(input: { type: RecordType; name: string; content: string; proxied: boolean; ttl: number; comment?: string | null }): DesiredRecord {
  const name = normalizeHostname(input.name);
  const comment = input.comment?.trim() || null;
  if (comment && /[\r\n]/.test(comment)) throw invalidInput('comment must be one line: Cloudflare comments cannot hold \\n or \\r', { field: 'comment' });
  if (ownedComment(comment).length > COMMENT_MAX) {
    throw invalidInput(`comment is too long: Cloudflare keeps ${COMMENT_MAX} characters and the ownership mark "${OWNER_MARK} " takes ${OWNER_MARK.length + 1}`, { field: 'comment' });
  }
  // 30–59 is left to Cloudflare: Enterprise zones take it, others refuse it with their reason (9021).
  if (!input.proxied && input.ttl !== 1 && (input.ttl < 30 || input.ttl > 86_400)) {
    throw invalidInput(`ttl must be 1 (automatic) or 60–86400 seconds (30–86400 on Enterprise zones), got ${input.ttl}`, { field: 'ttl' });
  }
  const content = normalizeContent(input.type, input.content);
  if (input.type === 'CNAME' && content === name) throw invalidInput(`a CNAME cannot point at its own name (${name})`, { field: 'target' });
  return { type: input.type, name, content, proxied: input.proxied, ttl: input.proxied ? 1 : input.ttl, comment };
}

function normalizeContent(type: RecordType, content: string): string {
  const value = content.trim();
  if (type === 'CNAME') {
    if (value.startsWith('*')) throw invalidInput(`a CNAME target cannot be a wildcard: ${content}`, { field: 'target' });
    try {
      return normalizeHostname(value);
    } catch (err) {
      // normalizeHostname speaks of "hostname": here it is the target that is wrong.
      if (!(err instanceof SupervisorError)) throw err;
      throw invalidInput(`target: ${err.message.replace(/^hostname\b/, 'the CNAME target')}`, { field: 'target' });
    }
  }
  const family = type === 'A' ? 4 : 6;
  // A zone index (fe80::1%eth0) passes isIP but means nothing in DNS (and breaks canonicalIpv6).
  if (isIP(value) !== family || value.includes('%')) throw invalidInput(`${type} record content must be an IPv${family} address, got ${JSON.stringify(content)}`, { field: 'address' });
  return family === 6 ? canonicalIpv6(value) : value;
}

/** Cloudflare answers AAAA content in compressed lower-case form; compare in that form. */
function canonicalIpv6(address: string): string {
  return new URL(`http://[${address}]/`).hostname.slice(1, -1);
}

/** Cloudflare's record in the form records are compared in (it reports names lower-case, TTL 1 when proxied). */
function comparable(r: DnsRecord): Omit<DesiredRecord, 'comment'> & { comment: string | null } {
  const type = r.type as RecordType;
  const content = type === 'CNAME' ? r.content.toLowerCase().replace(/\.$/, '') : type === 'AAAA' ? canonicalIpv6(r.content) : r.content;
  return { type, name: r.name.toLowerCase(), content, proxied: r.proxied, ttl: r.proxied ? 1 : r.ttl, comment: r.comment ?? null };
}

/** Same type, name and content: what Cloudflare calls "already exists" (81057) whatever the TTL, proxying or comment. */
export function sameContent(want: DesiredRecord, have: DnsRecord): boolean {
  const h = comparable(have);
  return h.type === want.type && h.name === want.name && h.content === want.content;
}

export function sameRecord(want: DesiredRecord, have: DnsRecord): boolean {
  const h = comparable(have);
  return h.type === want.type && h.name === want.name && h.content === want.content && h.proxied === want.proxied && h.ttl === want.ttl && h.comment === ownedComment(want.comment);
}

/** The API body for a create or a full update; proxied records are sent with TTL 1. */
export function recordInput(r: DesiredRecord): DnsRecordInput {
  return { type: r.type, name: r.name, content: r.content, proxied: r.proxied, ttl: r.proxied ? 1 : r.ttl, comment: ownedComment(r.comment) };
}

export function viewOf(zone: string, r: DnsRecord): RecordView {
  return { id: r.id, zone, type: r.type, name: r.name, content: r.content, proxied: r.proxied, ttl: r.ttl, comment: r.comment ?? null, owned: isOwned(r) };
}

export function viewOfDesired(zone: string, r: DesiredRecord, id?: string): RecordView {
  return { ...(id ? { id } : {}), zone, type: r.type, name: r.name, content: r.content, proxied: r.proxied, ttl: r.ttl, comment: ownedComment(r.comment), owned: true };
}

/** A CNAME shares its name with no other record; an address record cannot sit beside a CNAME. */
const clashes = (want: RecordType, have: string) => (want === 'CNAME' ? have !== 'CNAME' : have === 'CNAME');

/**
 * The changes that make `existing` hold `upserts` and lose `deletes`. Records that are not
 * ours (no ownership mark) are never touched unless `force`; they come back as conflicts.
 * Upsert is by name and type: with several records of a name (a round-robin set) the one
 * we own is updated and the others are left alone.
 */
export function planZone(zone: string, existing: DnsRecord[], upserts: DesiredRecord[], deletes: DeleteTarget[], force: boolean): ZonePlan {
  const plan: ZonePlan = { ops: [], conflicts: [], unchanged: 0 };
  const byName = new Map<string, DnsRecord[]>();
  for (const r of existing) {
    const name = r.name.toLowerCase();
    byName.set(name, [...(byName.get(name) ?? []), r]);
  }
  const deleted = new Set<string>();
  const remove = (r: DnsRecord) => {
    if (deleted.has(r.id)) return;
    deleted.add(r.id);
    plan.ops.push({ action: 'delete', zone, id: r.id, before: r });
  };
  const refuse = (r: DnsRecord, reason: string) => plan.conflicts.push({ name: r.name, type: r.type, reason, existing: viewOf(zone, r) });

  for (const target of deletes) {
    for (const r of byName.get(target.name) ?? []) {
      if (target.type && r.type !== target.type) continue;
      if (target.content !== undefined && r.content.toLowerCase() !== target.content.toLowerCase()) continue;
      if (!RECORD_TYPES.includes(r.type as RecordType) && !target.type) continue;
      if (isOwned(r) || force) remove(r);
      else refuse(r, `${r.type} ${r.name} → ${r.content} was not made by the supervisor; pass force to delete it`);
    }
  }

  for (const want of upserts) {
    const here = (byName.get(want.name) ?? []).filter((r) => !deleted.has(r.id));
    // Someone else's record already says exactly this: nothing to do (force takes it over below).
    if (!force && here.some((r) => !isOwned(r) && sameContent(want, r))) {
      plan.unchanged++;
      continue;
    }
    const blocking = here.filter((r) => clashes(want.type, r.type));
    const foreignBlock = blocking.filter((r) => !isOwned(r));
    if (foreignBlock.length > 0 && !force) {
      for (const r of foreignBlock) refuse(r, `${r.type} ${r.name} → ${r.content} exists, was not made by the supervisor, and cannot coexist with a ${want.type}; pass force to replace it`);
      continue;
    }
    blocking.forEach(remove);
    const sameType = here.filter((r) => r.type === want.type);
    if (sameType.some((r) => sameRecord(want, r))) {
      plan.unchanged++;
      continue;
    }
    const target = sameType.find(isOwned) ?? (force ? sameType[0] : undefined);
    if (target) {
      plan.ops.push({ action: 'update', zone, id: target.id, before: target, record: want });
    } else if (sameType[0]) {
      // Adding a second address beside a hand-made one would silently make a round-robin set.
      refuse(sameType[0], `${want.type} ${want.name} → ${sameType[0].content} was not made by the supervisor; pass force to point it at ${want.content}`);
    } else {
      plan.ops.push({ action: 'create', zone, record: want });
    }
  }
  return plan;
}

/** Deletes first, then updates, then creates: the order the batch endpoint runs them in. */
export function orderOps(ops: RecordOp[]): RecordOp[] {
  const rank = { delete: 0, update: 1, create: 2 } as const;
  return [...ops].sort((a, b) => rank[a.action] - rank[b.action]);
}
