// Cloudflare API v4 as it is on the wire: the envelope, zones, DNS records, batches and
// tunnel configurations. The client and the fake API in test/fakes/cloudflare both use
// these, so the two cannot drift apart on a field's name or shape.

export interface ErrorItem {
  code: number;
  message: string;
  error_chain?: ErrorItem[];
}

export interface ResultInfo {
  page: number;
  per_page: number;
  count: number;
  total_count: number;
  total_pages: number;
}

/** Every answer: `{ success, errors, messages, result, result_info? }`. */
export interface Envelope<T> {
  success: boolean;
  errors: ErrorItem[];
  messages: unknown[];
  result: T;
  result_info?: ResultInfo;
}

export interface Zone {
  id: string;
  name: string;
  status: 'active' | 'pending' | 'initializing' | 'moved';
  paused: boolean;
  type: 'full' | 'partial' | 'secondary';
  development_mode: number;
  name_servers: string[];
  original_name_servers: string[] | null;
  original_registrar: string | null;
  original_dnshost: string | null;
  created_on: string;
  modified_on: string;
  activated_on: string;
  account: { id: string; name: string };
  owner: { id: string | null; type: 'user' | 'organization'; email: string | null };
  permissions: string[];
  plan: { id: string; name: string; price: number; currency: string; is_subscribed: boolean; legacy_id: string };
  meta: { step: number; phishing_detected: boolean };
}

export interface DnsRecord {
  id: string;
  zone_id: string;
  zone_name: string;
  name: string;
  type: string;
  content: string;
  proxiable: boolean;
  proxied: boolean;
  /** 1 = automatic; proxied records always report 1. */
  ttl: number;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

/** What a create, update or batch item sends. */
export interface DnsRecordInput {
  type: string;
  name: string;
  content: string;
  ttl?: number;
  proxied?: boolean;
  comment?: string | null;
  tags?: string[];
}

/** POST /zones/{id}/dns_records/batch: executed in this order, all or nothing. */
export interface DnsBatch {
  deletes?: Array<{ id: string }>;
  patches?: Array<{ id: string } & Partial<DnsRecordInput>>;
  puts?: Array<{ id: string } & DnsRecordInput>;
  posts?: DnsRecordInput[];
}

export type BatchKind = keyof DnsBatch;

export interface IngressRule {
  hostname?: string;
  path?: string;
  service: string;
  originRequest?: Record<string, unknown>;
}

export interface TunnelConfig {
  ingress: IngressRule[];
  originRequest?: Record<string, unknown>;
  'warp-routing'?: { enabled: boolean };
}

/** GET/PUT /accounts/{account}/cfd_tunnel/{tunnel}/configurations. */
export interface TunnelConfigResult {
  tunnel_id: string;
  account_id?: string;
  /** 0 and `config: null` for a tunnel never configured remotely. */
  version: number;
  config: TunnelConfig | null;
  source: string;
  created_at?: string;
}
