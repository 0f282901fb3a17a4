// Public shapes of the fake Cloudflare API: what tests seed and inject. What the wire carries
// is in src/cloudflare/wire.ts, shared with the client.

export type { BatchKind, DnsRecord, IngressRule, TunnelConfig, Zone } from '../../../src/cloudflare/wire.js';

export type Permission = 'zone:read' | 'dns:read' | 'dns:edit' | 'tunnel:read' | 'tunnel:edit' | 'tokens:read';

export type TokenStatus = 'active' | 'disabled' | 'expired';

/** One injected transport-level failure (see FaultInjector). */
export type Fault =
  | { status: 429; retryAfterSeconds: number }
  | { status: 500 | 502 | 503 }
  | { drop: true }
  | { delayMs: number };

export interface CallRecord {
  method: string;
  /** Path relative to /client/v4 (the full path when the prefix is missing). */
  path: string;
  query: Record<string, string>;
  body: unknown;
  /** HTTP status sent; 0 while pending or when the socket was dropped. */
  status: number;
}

