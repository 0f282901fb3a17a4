// Public shapes of the fake Cloudflare API: what tests seed and what the wire carries.

export type Permission = 'zone:read' | 'dns:read' | 'dns:edit' | 'tunnel:read' | 'tunnel:edit' | 'tokens:read';

export type TokenStatus = 'active' | 'disabled' | 'expired';

/** One injected transport-level failure (see FaultInjector). */
export type Fault =
  | { status: 429; retryAfterSeconds: number }
  | { status: 500 | 502 | 503 }
  | { drop: true }
  | { delayMs: number };

export interface Zone {
  id: string;
  name: string;
  status: 'active';
  paused: boolean;
  type: 'full';
  development_mode: number;
  name_servers: string[];
  original_name_servers: string[] | null;
  original_registrar: string | null;
  original_dnshost: string | null;
  created_on: string;
  modified_on: string;
  activated_on: string;
  account: { id: string; name: string };
  owner: { id: string | null; type: 'user'; email: string | null };
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
  ttl: number;
  comment: string | null;
  tags: string[];
  settings: Record<string, unknown>;
  meta: Record<string, unknown>;
  created_on: string;
  modified_on: string;
}

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

export interface CallRecord {
  method: string;
  /** Path relative to /client/v4 (the full path when the prefix is missing). */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** HTTP status sent; 0 while pending or when the socket was dropped. */
  status: number;
}

export type BatchKind = 'deletes' | 'patches' | 'puts' | 'posts';
