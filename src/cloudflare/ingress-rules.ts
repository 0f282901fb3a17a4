// Pure rules for cloudflared ingress lists: hostname normalisation, validation, ordering and
// comparison. Shared by the local config.yml writer and the remote-managed tunnel sync so both
// refuse the same mistakes before cloudflared (or Cloudflare's API) does, with messages that
// name the offending rule.
//
// The checks mirror cloudflared's own (ingress/ingress.go, validateIngress/validateHostname)
// and are deliberately a little stricter where cloudflared's leniency only hides typos:
// unknown URL schemes, a `*` that is not a whole leading label, a `/` path on a service URL.
import { domainToASCII } from 'node:url';
import { invalidInput } from '../core/errors.js';
import type { IngressRule } from './client.js';

/** The conventional last rule: anything no other rule matched gets a 404 from cloudflared. */
export const CATCH_ALL: IngressRule = Object.freeze({ service: 'http_status:404' });

const MAX_NAME = 253;
const MAX_LABEL = 63;
// Letters, digits, "_" (service labels such as _dmarc) and inner hyphens: DNS (RFC 1123) and
// Cloudflare refuse a label that starts or ends with "-".
const LABEL = /^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?$/;

/** cloudflared treats an empty hostname and `*` alike: both match every host. */
function matchesEveryHost(hostname: string | undefined): boolean {
  return hostname === undefined || hostname === '' || hostname === '*';
}

function hasPath(rule: IngressRule): boolean {
  return rule.path !== undefined && rule.path !== '';
}

/** True for a rule that matches every request: no hostname (or `*`) and no path. */
export function isCatchAll(rule: IngressRule): boolean {
  return matchesEveryHost(rule.hostname) && !hasPath(rule);
}

// ---------------------------------------------------------------------------------------------
// Hostname normalisation

/** A hostname refused, as the field that carries it (a caller's CNAME target renames it). */
const badHostname = (message: string) => invalidInput(message, { field: 'hostname' });

/**
 * The canonical spelling of a hostname for an ingress rule or DNS record: trimmed, lower-case,
 * without the root dot, IDN labels in punycode, an optional single leading `*.` kept.
 * Throws invalid_input saying what is wrong, so a person can fix the name they typed.
 */
export function normalizeHostname(name: string): string {
  let host = name.trim().toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  if (host === '') throw badHostname('hostname is empty');
  if (host.includes(':')) {
    throw badHostname(`hostname "${name}" contains a port or a colon; ingress hostnames cannot carry a port, put it in the service URL`);
  }
  const wildcard = host.startsWith('*.');
  const rest = wildcard ? host.slice(2) : host;
  if (rest.includes('*')) {
    throw badHostname(`hostname "${name}" has a "*" that is not a single leading "*." (only whole-subdomain wildcards like "*.example.com" are allowed)`);
  }
  const ascii = toAscii(rest, name);
  const result = wildcard ? `*.${ascii}` : ascii;
  checkLabels(result, name);
  return result;
}

/**
 * Converts IDN labels to punycode. Pure-ASCII names skip the WHATWG host parser on purpose:
 * it would silently rewrite numeric names (`0x7f.1` → `127.0.0.1`) instead of leaving them be.
 */
function toAscii(host: string, original: string): string {
  if (!/[^\x00-\x7f]/.test(host)) return host;
  const ascii = domainToASCII(host);
  if (ascii === '') throw badHostname(`hostname "${original}" is not a valid internationalised domain name`);
  return ascii;
}

function checkLabels(host: string, original: string): void {
  if (host.length > MAX_NAME) {
    throw badHostname(`hostname "${original}" is ${host.length} characters long; the limit is ${MAX_NAME}`);
  }
  const labels = host.startsWith('*.') ? host.slice(2).split('.') : host.split('.');
  for (const label of labels) {
    if (label === '') throw badHostname(`hostname "${original}" has an empty label (two dots in a row, or a leading dot)`);
    if (label.length > MAX_LABEL) {
      throw badHostname(`hostname "${original}" has a label of ${label.length} characters ("${label.slice(0, 20)}…"); the limit is ${MAX_LABEL}`);
    }
    if (!LABEL.test(label)) {
      throw badHostname(`hostname "${original}" has an invalid label "${label}"; use letters, digits, "_" and "-" (not first or last)`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Validation

const HELLO_WORLD = new Set(['hello_world', 'hello-world', 'helloworld']);
const NAMED_SERVICES = new Set([...HELLO_WORLD, 'bastion', 'socks-proxy']);
// cloudflared accepts any scheme (non-HTTP ones become TCP over WebSocket); we keep to the ones
// it documents so a typo such as `htp://` is caught here rather than at the first visitor.
const URL_SCHEMES = new Set(['http', 'https', 'ws', 'wss', 'tcp', 'ssh', 'rdp', 'smb']);
const URL_SHAPE = /^([a-z][a-z0-9+.-]*):\/\/([^/?#]*)(.*)$/i;

function describe(rule: IngressRule, index: number): string {
  const host = typeof rule.hostname === 'string' && rule.hostname !== '' ? rule.hostname : 'no hostname';
  const path = hasPath(rule) ? `, path ${String(rule.path)}` : '';
  return `rule ${index + 1} (${host}${path})`;
}

/**
 * Every reason cloudflared would refuse this ingress list (empty when it is fine). Each message
 * names the rule by 1-based position and hostname. Callers usually join them into one error.
 */
export function ingressProblems(rules: IngressRule[]): string[] {
  if (rules.length === 0) {
    return ['ingress has no rules; it needs at least the catch-all { service: "http_status:404" } as its last rule'];
  }
  const problems: string[] = [];
  rules.forEach((rule, i) => {
    const label = describe(rule, i);
    problems.push(...shapeProblems(rule, label));
    problems.push(...positionProblems(rule, i, rules.length, label));
    problems.push(...hostnameProblems(rule.hostname, label));
    problems.push(...serviceProblems(rule.service, label));
    problems.push(...pathProblems(rule.path, label));
  });
  problems.push(...duplicateProblems(rules));
  return problems;
}

/** Rules can come from hand-edited YAML, so the declared types are not guaranteed at runtime. */
function shapeProblems(rule: IngressRule, label: string): string[] {
  const out: string[] = [];
  if (rule.hostname !== undefined && typeof rule.hostname !== 'string') out.push(`${label}: hostname must be a string`);
  if (rule.path !== undefined && typeof rule.path !== 'string') out.push(`${label}: path must be a string`);
  const origin: unknown = rule.originRequest;
  if (origin !== undefined && (origin === null || typeof origin !== 'object' || Array.isArray(origin))) {
    out.push(`${label}: originRequest must be a mapping of settings`);
  }
  return out;
}

function positionProblems(rule: IngressRule, index: number, total: number, label: string): string[] {
  const last = index === total - 1;
  if (last && !isCatchAll(rule)) {
    return [`${label} is the last rule, so it must match everything (no hostname, no path), e.g. { service: "http_status:404" }`];
  }
  if (!last && isCatchAll(rule)) {
    return [`${label} matches every request (no hostname, no path) but is not last, so the rules after it are never reached`];
  }
  return [];
}

function hostnameProblems(hostname: unknown, label: string): string[] {
  if (typeof hostname !== 'string' || matchesEveryHost(hostname)) return [];
  const out: string[] = [];
  if (hostname.includes(':')) out.push(`${label}: a hostname cannot contain a port; put the port in the service URL`);
  const stars = hostname.split('*').length - 1;
  if (stars > 1 || (stars === 1 && !hostname.startsWith('*.'))) {
    out.push(`${label}: a hostname may have one "*" and only as a leading "*." (e.g. "*.example.com")`);
  }
  return out;
}

function serviceProblems(service: unknown, label: string): string[] {
  if (typeof service !== 'string' || service === '') return [`${label}: service is missing`];
  if (NAMED_SERVICES.has(service)) return [];
  if (service.startsWith('http_status:')) return statusProblems(service, label);
  if (service.startsWith('unix:') || service.startsWith('unix+tls:')) {
    const socket = service.slice(service.indexOf(':') + 1);
    return socket === '' ? [`${label}: service "${service}" names no socket path`] : [];
  }
  return urlServiceProblems(service, label);
}

function statusProblems(service: string, label: string): string[] {
  const code = service.slice('http_status:'.length);
  if (/^\d{3}$/.test(code) && Number(code) >= 100 && Number(code) <= 599) return [];
  return [`${label}: service "${service}" needs an HTTP status code from 100 to 599, e.g. http_status:404`];
}

function urlServiceProblems(service: string, label: string): string[] {
  const m = URL_SHAPE.exec(service);
  if (!m) {
    // A port, or host:port, is what a person types first: cloudflared needs the scheme.
    const meant = /^\d{1,5}$/.test(service) ? `http://localhost:${service}` : /^[\w.-]+:\d{1,5}$/.test(service) ? `http://${service}` : undefined;
    if (meant) return [`${label}: service "${service}" has no scheme; cloudflared needs one, e.g. ${meant}${/^\d+$/.test(service) ? '; a route also takes the bare port as its port (port)' : ''}`];
    return [`${label}: service "${service}" is not recognised; use http://, https://, tcp://, ssh://, rdp://, smb://, unix:, unix+tls:, http_status:NNN, hello_world, bastion or socks-proxy`];
  }
  const [, scheme = '', authority = '', rest = ''] = m;
  const out: string[] = [];
  if (!URL_SCHEMES.has(scheme.toLowerCase())) out.push(`${label}: service scheme "${scheme}://" is not one cloudflared proxies to`);
  if (authority === '' || !isParsableUrl(service)) out.push(`${label}: service "${service}" has no valid host`);
  // cloudflared rejects any URL path here, even a lone "/" (Go's url.Parse keeps it as Path "/"):
  // the visitor's own path is always forwarded as is.
  if (rest.startsWith('/')) out.push(`${label}: service "${service}" has a path; cloudflared forwards the visitor's path unchanged, so give only scheme://host:port`);
  return out;
}

function isParsableUrl(value: string): boolean {
  try {
    return new URL(value).hostname !== '';
  } catch {
    return false;
  }
}

// cloudflared compiles `path` with Go's regexp (RE2). JS RegExp is only an approximation: it
// accepts lookaround and backreferences that RE2 refuses (flagged below), and lacks Go's inline
// flags `(?i)` / `(?i:…)` and `(?P<name>…)` groups, which are rewritten before compiling so a
// valid Go pattern is not reported. Patterns JS accepts but RE2 rejects can still slip through.
const RE2_UNSUPPORTED = /\(\?<?[=!]|(^|[^\\])(\\\\)*\\[1-9]/;
const GO_FLAGS = /\(\?(?:[imsU]+(?:-[imsU]*)?|-[imsU]+)([:)])/g;

function asJsPattern(goPattern: string): string {
  return goPattern.replace(GO_FLAGS, (_all, end: string) => (end === ':' ? '(?:' : '')).replaceAll('(?P<', '(?<');
}

function pathProblems(path: unknown, label: string): string[] {
  if (typeof path !== 'string' || path === '') return [];
  if (RE2_UNSUPPORTED.test(path)) {
    return [`${label}: path "${path}" uses lookaround or a backreference, which Go regular expressions do not support`];
  }
  try {
    new RegExp(asJsPattern(path));
    return [];
  } catch (err) {
    return [`${label}: path "${path}" is not a valid regular expression (${(err as Error).message})`];
  }
}

/** Key under which two rules match the same requests; `*` and no hostname are the same. */
function matchKey(rule: IngressRule): string {
  const host = typeof rule.hostname === 'string' && !matchesEveryHost(rule.hostname) ? rule.hostname.toLowerCase() : '';
  const path = typeof rule.path === 'string' ? rule.path : '';
  return `${host}\u0000${path}`;
}

function duplicateProblems(rules: IngressRule[]): string[] {
  const firstSeen = new Map<string, number>();
  const out: string[] = [];
  rules.forEach((rule, i) => {
    // Several catch-alls are already reported as "not last"; saying "duplicate" too adds noise.
    if (isCatchAll(rule)) return;
    const key = matchKey(rule);
    const first = firstSeen.get(key);
    if (first === undefined) firstSeen.set(key, i);
    else out.push(`${describe(rule, i)} repeats the hostname and path of rule ${first + 1}; it can never match`);
  });
  return out;
}

// ---------------------------------------------------------------------------------------------
// Ordering

/** 0 exact hostname, 1 wildcard hostname, 2 any host with a path, 3 catch-all. */
function rank(rule: IngressRule): number {
  if (isCatchAll(rule)) return 3;
  if (matchesEveryHost(rule.hostname)) return 2;
  return rule.hostname?.startsWith('*.') ? 1 : 0;
}

function labelsOf(hostname: string | undefined): string[] {
  return matchesEveryHost(hostname) ? [] : (hostname ?? '').toLowerCase().split('.');
}

/** Compares hostnames label by label from the right, so `a.example.com` sits next to `b.example.com`. */
function compareHostnames(a: string[], b: string[]): number {
  const n = Math.min(a.length, b.length);
  for (let i = 1; i <= n; i++) {
    const x = a[a.length - i] ?? '';
    const y = b[b.length - i] ?? '';
    if (x !== y) return x < y ? -1 : 1;
  }
  return a.length - b.length;
}

/**
 * Paths of one hostname: any path before none; then longer first, because an unanchored regex
 * such as `/api` also matches `/api/v2` and would otherwise shadow it; then by code units.
 */
function comparePaths(a: IngressRule, b: IngressRule): number {
  const pa = hasPath(a) ? (a.path ?? '') : '';
  const pb = hasPath(b) ? (b.path ?? '') : '';
  if (pa === pb) return 0;
  if (pa === '' || pb === '') return pa === '' ? 1 : -1;
  if (pa.length !== pb.length) return pb.length - pa.length;
  return pa < pb ? -1 : 1;
}

/**
 * Order for top-to-bottom matching: exact hostnames, then wildcards deepest first, then
 * host-less rules with a path, then the catch-all. Within a group hostnames compare by labels
 * from the right (siblings group together), and a hostname's path rules precede its plain rule.
 */
export function compareRules(a: IngressRule, b: IngressRule): number {
  const byRank = rank(a) - rank(b);
  if (byRank !== 0) return byRank;
  const la = labelsOf(a.hostname);
  const lb = labelsOf(b.hostname);
  // Only wildcards need depth first: a deeper `*.b.example.com` must precede `*.example.com`.
  if (rank(a) === 1 && la.length !== lb.length) return lb.length - la.length;
  const byHost = compareHostnames(la, lb);
  if (byHost !== 0) return byHost;
  return comparePaths(a, b);
}

/**
 * Sorts rules for matching and ends the list with exactly one catch-all: the first catch-all in
 * the input if there is one (later catch-alls are dropped: they could never match), else
 * CATCH_ALL. Rules comparing equal keep their input order (Array.prototype.sort is stable).
 */
export function sortIngress(rules: IngressRule[]): IngressRule[] {
  const catchAll = rules.find(isCatchAll) ?? { ...CATCH_ALL };
  const routes = rules.filter((rule) => !isCatchAll(rule)).sort(compareRules);
  return [...routes, catchAll];
}

// ---------------------------------------------------------------------------------------------
// Comparison

/** Same rules in the same order; key order and `undefined` fields do not count as differences. */
export function sameIngress(a: IngressRule[], b: IngressRule[]): boolean {
  return deepEqual(a, b);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    return a.length === b.length && a.every((item, i) => deepEqual(item, b[i]));
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const keys = (o: Record<string, unknown>) => Object.keys(o).filter((k) => o[k] !== undefined).sort();
    const ka = keys(a);
    const kb = keys(b);
    return ka.length === kb.length && ka.every((k, i) => k === kb[i] && deepEqual(a[k], b[k]));
  }
  return false;
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);
const DEFAULT_PORTS: Record<string, number> = { 'http:': 80, 'https:': 443, 'ws:': 80, 'wss:': 443 };

/** The port of this host a rule's service sends traffic to (http://localhost:3107 → 3107); undefined for any other host or kind. */
export function localPort(service: string): number | undefined {
  let url: URL;
  try {
    url = new URL(service);
  } catch {
    return undefined;
  }
  if (!LOOPBACK.has(url.hostname)) return undefined;
  return url.port === '' ? DEFAULT_PORTS[url.protocol] : Number(url.port);
}
