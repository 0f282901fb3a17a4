// Remote tunnel configuration validation. The API runs cloudflared's own ingress validation
// (cloudflared ingress/ingress.go) and wraps its message as
// 400 {code 1056, "Bad Configuration: Validation failed: <message>\n"} — trailing newline included.
import { fail, type ApiError } from './envelope.js';
import type { IngressRule, TunnelConfig } from './types.js';

const invalid = (message: string): ApiError => fail(400, 1056, `Bad Configuration: Validation failed: ${message}\n`);

/** Validates a PUT body's `config` and returns the stored document. */
export function validateTunnelConfig(raw: unknown): TunnelConfig {
  const config = isObject(raw) ? raw : {};
  const ingress = Array.isArray(config.ingress) ? config.ingress : [];
  if (ingress.length === 0) throw invalid("The config file doesn't contain any ingress rules");
  const rules = ingress.map((rule, i) => readRule(rule, i));
  rules.forEach((rule, i) => validateRule(rule, i, rules.length));
  rejectDuplicates(rules);
  return {
    ...config,
    ingress: rules,
    // Recorded: an omitted warp-routing comes back as {enabled: false}.
    'warp-routing': isObject(config['warp-routing']) ? (config['warp-routing'] as { enabled: boolean }) : { enabled: false },
  } as TunnelConfig;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function readRule(raw: unknown, i: number): IngressRule {
  const fields = ['hostname', 'path', 'service'] as const;
  if (!isObject(raw) || fields.some((f) => raw[f] !== undefined && typeof raw[f] !== 'string')) {
    // cloudflared would fail to decode such a rule; this wording is the fake's own.
    throw invalid(`Rule #${i + 1} is not a valid ingress rule`);
  }
  return { ...raw, service: (raw.service as string | undefined) ?? '' } as IngressRule;
}

function validateRule(rule: IngressRule, i: number, total: number): void {
  const serviceError = validateService(rule.service);
  if (serviceError) throw invalid(serviceError);
  const hostname = rule.hostname ?? '';
  const path = rule.path ?? '';
  if (hasPort(hostname)) throw invalid('Hostname cannot contain a port');
  if (hostname.lastIndexOf('*') > 0) {
    throw invalid('Hostname patterns can have at most one wildcard character ("*") and it can only be used for subdomains, e.g. "*.example.com"');
  }
  const catchAll = (hostname === '' || hostname === '*') && path === '';
  if (i === total - 1 && !catchAll) {
    throw invalid('The last ingress rule must match all URLs (i.e. it should not have a hostname or path filter)');
  }
  if (i < total - 1 && catchAll) {
    throw invalid(`Rule #${i + 1} is matching the hostname '${hostname}', but this will match every hostname, meaning the rules which follow it will never be triggered.`);
  }
  if (path !== '') {
    try {
      new RegExp(path); // cloudflared compiles a Go regexp; JS syntax is close enough for tests.
    } catch (err) {
      throw invalid(`Rule #${i + 1} has an invalid regex: ${(err as Error).message}`);
    }
  }
}

/** Go's net.SplitHostPort succeeds (so cloudflared refuses) for "host:port" and "[v6]:port". */
function hasPort(hostname: string): boolean {
  return /^\[[^\]]*\]:[^:]*$/.test(hostname) || /^[^:[\]]*:[^:]*$/.test(hostname);
}

const NAMED_SERVICES = new Set(['hello_world', 'hello-world', 'helloworld', 'socks-proxy', 'bastion']);

/**
 * cloudflared accepts unix:/unix+tls: paths, http_status:<int>, the named services, and any URL with
 * a scheme and a host but no path (so "http://localhost:8080/" is refused for its "/").
 */
function validateService(service: string): string | undefined {
  if (service.startsWith('unix:') || service.startsWith('unix+tls:') || NAMED_SERVICES.has(service)) return undefined;
  if (service.startsWith('http_status:')) {
    const code = service.slice('http_status:'.length);
    return /^[+-]?\d+$/.test(code) ? undefined : `invalid HTTP status: strconv.Atoi: parsing "${code}": invalid syntax`;
  }
  const url = /^([a-zA-Z][a-zA-Z0-9+.-]*):\/\/([^/?#]*)([^?#]*)/.exec(service);
  const authority = url?.[2]?.replace(/^[^@]*@/, '') ?? '';
  const port = /^(?:\[[^\]]*\]|[^:]*)(:.*)$/.exec(authority)?.[1];
  // Go's url.Parse refuses a non-numeric port, e.g. one with a pasted trailing space (seen in the dashboard).
  if (port !== undefined && !/^:\d*$/.test(port)) return `parse "${service}": invalid port "${port}" after host`;
  const host = authority.replace(/:\d*$/, '').replace(/^\[|\]$/g, '');
  if (!url || host === '') return `${service} is an invalid address, please make sure it has a scheme and a hostname`;
  if (url[3] !== '') {
    return `${service} is an invalid address, ingress rules don't support proxying to a different path on the origin service. The path will be the same as the eyeball request's path`;
  }
  return undefined;
}

/**
 * Stricter than the API: cloudflared accepts a repeated hostname+path (the later rule is simply
 * never reached). Such a rule is always a caller bug, so the fake refuses it, in its own words.
 */
function rejectDuplicates(rules: IngressRule[]): void {
  const seen = new Map<string, number>();
  rules.forEach((rule, i) => {
    if (!rule.hostname) return;
    const key = `${rule.hostname.toLowerCase()}\u0000${rule.path ?? ''}`;
    const first = seen.get(key);
    if (first !== undefined) {
      throw invalid(`Rule #${i + 1} repeats the hostname '${rule.hostname}' and path of rule #${first + 1}`);
    }
    seen.set(key, i);
  });
}
