// In-memory fake of the Cloudflare API v4 for tests: start it, seed it, point the client at `url`.
import type { AddressInfo } from 'node:net';
import { TokenStore } from './auth.js';
import { batchRoute, type BatchRejector } from './dns-batch.js';
import { DnsStore } from './dns-store.js';
import { validateFields } from './dns-validate.js';
import { dnsRoutes } from './dns.js';
import { FaultInjector } from './faults.js';
import { RateLimiter } from './ratelimit.js';
import { API_PREFIX, createFakeServer } from './server.js';
import { tokenRoutes } from './tokens.js';
import { TunnelStore, tunnelRoutes, type TunnelSource } from './tunnels.js';
import type { CallRecord, DnsRecord, Fault, Permission, TokenStatus, TunnelConfig, Zone } from './types.js';
import { ZoneStore, zoneRoutes } from './zones.js';

export type { BatchKind, CallRecord, DnsRecord, Fault, IngressRule, Permission, TokenStatus, TunnelConfig, Zone } from './types.js';
export type { TunnelSource } from './tunnels.js';
export { BATCH_LIMIT } from './dns-batch.js';

export interface FakeCloudflare {
  /** Base URL to use in place of https://api.cloudflare.com/client/v4. */
  url: string;
  close(): Promise<void>;
  /** `account`: an account API token of that account, which the user's verify endpoint refuses. */
  addToken(token: string, permissions: Permission[], opts?: { id?: string; status?: TokenStatus; account?: string }): void;
  addZone(name: string, opts?: { id?: string; accountId?: string }): Zone;
  /** Seeds a record through the API's own validation and conflict rules; throws if it would be refused. */
  addRecord(zoneId: string, record: Partial<DnsRecord> & { type: string; name: string; content: string }): DnsRecord;
  /** `source: 'local'`: a tunnel run from the config.yml on its host (the API still answers its configuration). */
  addTunnel(accountId: string, tunnelId: string, config?: TunnelConfig, source?: TunnelSource): void;
  records(zoneId: string): DnsRecord[];
  /** undefined for an unknown tunnel and for one never configured. */
  tunnelConfig(accountId: string, tunnelId: string): { config: TunnelConfig; version: number } | undefined;
  /** Every request in arrival order (the same array for the fake's lifetime). */
  calls: CallRecord[];
  resetCalls(): void;
  failNext(count: number, fault: Fault, pathIncludes?: string): void;
  failAlways(fault: Fault, pathIncludes?: string): void;
  /** Removes injected faults and the batch rejector. */
  clearFaults(): void;
  rejectBatchIf(pred: BatchRejector): void;
}

export interface FakeCloudflareOptions {
  port?: number;
  /** Default: the documented 1,200 requests per 5 minutes per token. */
  rateLimit?: { requests: number; windowMs: number };
}

export async function startFakeCloudflare(options: FakeCloudflareOptions = {}): Promise<FakeCloudflare> {
  const tokens = new TokenStore();
  const zones = new ZoneStore();
  const records = new DnsStore();
  const tunnels = new TunnelStore();
  const faults = new FaultInjector();
  const rejector: { current?: BatchRejector } = {};
  const calls: CallRecord[] = [];
  const limit = options.rateLimit ?? { requests: 1200, windowMs: 5 * 60_000 };
  const dns = { zones, records };
  const server = createFakeServer({
    // The batch route precedes the /:id routes so "batch" is never read as a record id.
    routes: [...tokenRoutes(tokens), ...zoneRoutes(zones), batchRoute(dns, rejector), ...dnsRoutes(dns), ...tunnelRoutes(tunnels)],
    tokens,
    limiter: new RateLimiter(limit.requests, limit.windowMs),
    faults,
    calls,
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  const zoneOrThrow = (zoneId: string): Zone => {
    const zone = zones.get(zoneId);
    if (!zone) throw new Error(`fake cloudflare: no zone ${zoneId}`);
    return zone;
  };

  return {
    url: `http://127.0.0.1:${port}${API_PREFIX}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
    addToken: (token, permissions, opts) => void tokens.add(token, permissions, opts),
    addZone: (name, opts) => zones.add(name, opts),
    addRecord: (zoneId, record) => {
      const zone = zoneOrThrow(zoneId);
      const input: Record<string, unknown> = { ...record };
      return records.create(zone, validateFields(input, zone.name), { id: record.id, created_on: record.created_on });
    },
    addTunnel: (accountId, tunnelId, config, source) => tunnels.add(accountId, tunnelId, config, source),
    records: (zoneId) => structuredClone(records.all(zoneId)),
    tunnelConfig: (accountId, tunnelId) => {
      const state = tunnels.get(accountId, tunnelId);
      return state?.config ? { config: structuredClone(state.config), version: state.version } : undefined;
    },
    calls,
    resetCalls: () => {
      calls.length = 0;
    },
    failNext: (count, fault, pathIncludes) => faults.failNext(count, fault, pathIncludes),
    failAlways: (fault, pathIncludes) => faults.failAlways(fault, pathIncludes),
    clearFaults: () => {
      faults.clear();
      rejector.current = undefined;
    },
    rejectBatchIf: (pred) => {
      rejector.current = pred;
    },
  };
}
