// DNS record input rules: name completion and per-field validation, in the API's words.
// Since October 2024 the API answers a DNS validation error with its root cause (9021 Invalid
// TTL, …) as the error itself, no longer wrapped in 1004 "DNS Validation Error" with an
// error_chain (Cloudflare's API deprecations page). The 1004s left are cases whose
// root-cause code was not found.
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { fail } from './envelope.js';

const SUPPORTED_TYPES = new Set(['A', 'AAAA', 'CNAME', 'TXT']);
/** Only address and alias records can go through Cloudflare's proxy. */
export const PROXIABLE_TYPES = new Set(['A', 'AAAA', 'CNAME']);

/** Validated record fields, before ids and timestamps are attached. */
export interface RecordFields {
  type: string;
  name: string;
  content: string;
  ttl: number;
  proxied: boolean;
  comment: string | null;
  tags: string[];
}

const LABEL = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const COMMENT_MAX = 100; // Free plan limit; paid plans allow 500.

const invalidName = () => fail(400, 9000, 'DNS name is invalid.');

/**
 * Stored names are lower-case and fully qualified. "@" is the apex; any name that does not end
 * in the zone name is taken as relative and gets the zone appended — the API does this even for
 * names of another domain (www.other.org becomes www.other.org.example.com), it does not refuse.
 */
function completeName(raw: unknown, zoneName: string): string {
  if (typeof raw !== 'string') throw invalidName();
  const trimmed = raw.trim().toLowerCase().replace(/\.$/, '');
  if (trimmed === '') throw invalidName();
  // Internationalised names are stored (and answered) in punycode: bücher → xn--bcher-kva.
  const name = /[^\x00-\x7f]/.test(trimmed) ? punycode(trimmed) : trimmed;
  const full = name === '@' || name === zoneName ? zoneName : name.endsWith(`.${zoneName}`) ? name : `${name}.${zoneName}`;
  const labels = full.split('.');
  const wildcardOk = labels.every((label, i) => (label === '*' ? i === 0 : LABEL.test(label)));
  if (!wildcardOk || full.length > 253) throw invalidName();
  return full;
}

function punycode(name: string): string {
  const wildcard = name.startsWith('*.');
  const ascii = domainToASCII(wildcard ? name.slice(2) : name);
  if (ascii === '') throw invalidName();
  return wildcard ? `*.${ascii}` : ascii;
}

function isHostname(value: string): boolean {
  return value.length <= 253 && value.split('.').every((label) => LABEL.test(label));
}

/** Validates a full create/replace input; PATCH callers merge onto the existing fields first. */
export function validateFields(input: Record<string, unknown>, zoneName: string): RecordFields {
  const type = typeof input.type === 'string' ? input.type.toUpperCase() : '';
  // The API accepts more types; this fake only models the four the service manages.
  if (!SUPPORTED_TYPES.has(type)) throw fail(400, 1004, 'DNS Validation Error');
  const name = completeName(input.name, zoneName);
  const content = validateContent(type, input.content, name);
  const ttl = input.ttl ?? 1;
  // TTL 1 means automatic; otherwise 60..86400 (30 on Enterprise).
  if (typeof ttl !== 'number' || !Number.isInteger(ttl) || (ttl !== 1 && (ttl < 60 || ttl > 86400))) {
    throw fail(400, 9021, 'Invalid TTL. Must be between 60 and 86400 seconds, or 1 for automatic.');
  }
  const proxied = input.proxied ?? false;
  if (typeof proxied !== 'boolean') {
    throw fail(400, 9003, "Invalid 'proxied' value, must be a boolean");
  }
  if (proxied && !PROXIABLE_TYPES.has(type)) throw fail(400, 9041, 'This DNS record cannot be proxied.');
  return { type, name, content, ttl: proxied ? 1 : ttl, proxied, comment: validateComment(input.comment), tags: validateTags(input.tags) };
}

function validateContent(type: string, raw: unknown, name: string): string {
  const content = typeof raw === 'string' ? raw.trim() : '';
  if (type === 'A' && !isIPv4(content)) throw fail(400, 9005, 'Content for A record must be a valid IPv4 address.');
  if (type === 'AAAA' && !isIPv6(content)) throw fail(400, 9006, 'Content for AAAA record must be a valid IPv6 address.');
  if (type === 'CNAME') {
    const target = content.toLowerCase().replace(/\.$/, '');
    // "A valid hostname. Must not match the record's name."
    if (!isHostname(target) || target === name) throw fail(400, 9007, 'Content for CNAME record is invalid.');
    return target;
  }
  if (type === 'TXT' && (typeof raw !== 'string' || raw === '')) throw fail(400, 1004, 'DNS Validation Error');
  return type === 'TXT' ? (raw as string) : content;
}

/**
 * "Comments are treated as graphic Unicode characters … However, comments do not support
 * newline (\\n) or carriage return (\\r) characters." The code and wording of that refusal were
 * not found; these are the fake's, in the API's validation-error form.
 */
function validateComment(raw: unknown): string | null {
  if (raw === undefined || raw === null || raw === '') return null;
  if (typeof raw !== 'string') throw fail(400, 1004, 'DNS Validation Error');
  if (raw.length > COMMENT_MAX) {
    throw fail(400, 9313, `DNS record comment exceeds the maximum length of ${COMMENT_MAX} characters.`);
  }
  if (/[\r\n]/.test(raw)) throw fail(400, 9314, 'DNS record comment must not contain newline or carriage return characters.');
  return raw;
}

/**
 * "Tags are treated as an array of name:value pairs … tag names are not case-sensitive and can
 * only contain letters, numbers, -, and _. For tag values, the same character restrictions apply
 * as for comments." Names are stored lower-case. Code and wording of the refusal are the fake's.
 */
const TAG = /^([A-Za-z0-9_-]+):([^\r\n]*)$/;

function validateTags(raw: unknown): string[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw) || !raw.every((t): t is string => typeof t === 'string')) {
    throw fail(400, 1004, 'DNS Validation Error');
  }
  return raw.map((tag) => {
    const match = TAG.exec(tag);
    if (!match) throw fail(400, 9315, `DNS record tag ${JSON.stringify(tag)} must be name:value, the name made of letters, digits, - and _.`);
    return `${(match[1] ?? '').toLowerCase()}:${match[2] ?? ''}`;
  });
}
