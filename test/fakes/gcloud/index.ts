// Fake Google Cloud for tests: the OAuth token endpoint, Compute Engine v1 and Cloud
// Monitoring v3, each on its own 127.0.0.1 port (as each is its own host at Google), sharing
// accounts, tokens and VMs. Seed accounts and VMs, point the clients at the URLs.
import type { AddAccountOptions } from './accounts.js';
import { AccountStore } from './accounts.js';
import { isZone, MACHINE_TYPES } from './compute-catalog.js';
import { OperationStore, type Timing } from './compute-operations.js';
import { googleTimestamp, instanceResource, InstanceStore } from './compute-store.js';
import { computeHandler } from './compute.js';
import { FaultInjector } from './faults.js';
import { startServiceServer } from './http.js';
import { monitoringHandler } from './monitoring.js';
import type { ProfiledInstance } from './monitoring-series.js';
import { oauthHandler, TOKEN_PATH } from './oauth.js';
import { TokenStore } from './tokens.js';
import type {
  CallRecord,
  Fault,
  FaultMatch,
  LoadProfile,
  OAuthGrant,
  OperationFailure,
  OperationFaultMatch,
  SeedInstance,
  ServiceAccountKeyJson,
} from './types.js';

export type * from './types.js';
export type { AddAccountOptions } from './accounts.js';

export interface FakeGoogleOptions {
  /** Time for token expiry, JWT checks and operation progress. Default Date.now. */
  now?: () => number;
  /** How long an operation stays PENDING, then RUNNING. Default 20 ms and 60 ms. */
  operationTiming?: Partial<Timing>;
  /** How long operations.wait holds an unfinished operation. Default 2,000 ms (Google: 2 min). */
  waitDeadlineMs?: number;
  /** expires_in of issued tokens. Default 3599, as Google answers. */
  tokenLifetimeSeconds?: number;
  /** OAuth listens on this port, Compute on the next, Monitoring on the one after; default: any free ports. */
  port?: number;
}

export interface OperationSummary {
  name: string;
  project: string;
  zone: string;
  type: string;
  instance: string;
  status: string;
  requestId?: string;
  user: string;
  error?: string;
}

export interface FakeGoogle {
  /** token_uri to put in keys (the fake's https://oauth2.googleapis.com/token). */
  tokenUri: string;
  /** rootUrl for @googleapis/compute (in place of https://compute.googleapis.com/). */
  computeRootUrl: string;
  /** In place of https://monitoring.googleapis.com/v3. */
  monitoringUrl: string;
  close(): Promise<void>;

  addServiceAccount(options: AddAccountOptions): { email: string; key: ServiceAccountKeyJson };
  addKey(email: string): ServiceAccountKeyJson;
  /** The project has not enabled the API (or turned it off): every call to it is refused with SERVICE_DISABLED. */
  disableApi(project: string, service: 'compute' | 'monitoring'): void;
  /** The key (by id) or every key of an account (by email) stops working: the next grant fails. */
  revokeKey(emailOrKeyId: string): void;
  /** Every token issued so far expires now, so the next API call with one gets 401. */
  expireAllTokens(): void;
  /** Every access token issued so far (for scans that no token leaked into output). */
  issuedTokens(): string[];
  /** Successful grants, oldest first. */
  grants: OAuthGrant[];
  grantCount(email?: string): number;

  addInstance(project: string, zone: string, seed: SeedInstance): Record<string, unknown>;
  instance(project: string, zone: string, name: string): Record<string, unknown> | undefined;
  /** Deletes an instance at once, as someone in the Cloud Console would: no operation, no call recorded. */
  removeInstance(project: string, zone: string, name: string): void;
  operations(): OperationSummary[];
  /** The next `count` operations that match end DONE with this error instead of taking effect. */
  failOperations(match: OperationFaultMatch, failure: OperationFailure, count?: number): void;

  /** Scripts the metrics of an existing VM (found by name, in `zone` or else the first zone that has one). */
  setLoad(project: string, instanceName: string, profile: LoadProfile, zone?: string): void;

  /** Every request to any of the three servers, in arrival order. */
  calls: CallRecord[];
  resetCalls(): void;
  failNext(count: number, fault: Fault, match?: FaultMatch): void;
  failAlways(fault: Fault, match?: FaultMatch): void;
  /** Removes injected transport faults and armed operation failures. */
  clearFaults(): void;
}

/** A Compute Engine quota refusal as an operation error (what an insert or start over quota ends with). */
export function quotaExceeded(metric: string, limit: number, region: string): OperationFailure {
  return {
    code: 'QUOTA_EXCEEDED',
    message: `Quota '${metric}' exceeded.  Limit: ${limit.toFixed(1)} in region ${region}.`,
    httpStatus: 403,
    errorDetails: [
      {
        quotaInfo: {
          metricName: `compute.googleapis.com/${metric.toLowerCase()}`,
          limitName: `${metric}-per-project-region`,
          dimensions: { region },
          limit,
        },
      },
    ],
  };
}

export async function startFakeGoogle(options: FakeGoogleOptions = {}): Promise<FakeGoogle> {
  const now = options.now ?? Date.now;
  const lifetimeSeconds = options.tokenLifetimeSeconds ?? 3599;
  const calls: CallRecord[] = [];
  const faults = new FaultInjector();
  const grants: OAuthGrant[] = [];
  const tokens = new TokenStore(now);
  const urls = { tokenUri: '' };
  const accounts = new AccountStore(() => urls.tokenUri);
  const instances = new InstanceStore();
  const operations = new OperationStore(now, { pendingMs: 20, runningMs: 60, ...options.operationTiming });
  const profiles: ProfiledInstance[] = [];
  const shared = { calls, faults };

  const oauth = await startServiceServer('oauth', oauthHandler({ accounts, tokens, grants, now, tokenUri: () => urls.tokenUri, lifetimeSeconds }), shared, options.port);
  urls.tokenUri = `${oauth.url}${TOKEN_PATH}`;
  const compute = await startServiceServer('compute', computeHandler({ accounts, tokens, instances, operations, now, waitDeadlineMs: options.waitDeadlineMs ?? 2000 }), shared, options.port && options.port + 1);
  const monitoring = await startServiceServer('monitoring', monitoringHandler({ accounts, tokens, profiles: () => profiles }), shared, options.port && options.port + 2);

  return {
    tokenUri: urls.tokenUri,
    computeRootUrl: `${compute.url}/`,
    monitoringUrl: `${monitoring.url}/v3`,
    close: async () => {
      await Promise.all([oauth.close(), compute.close(), monitoring.close()]);
    },
    addServiceAccount: (opts) => {
      const { account, key } = accounts.add(opts);
      return { email: account.email, key };
    },
    addKey: (email) => accounts.addKey(email),
    disableApi: (project, service) => void accounts.disabledApis.add(`${service}:${project}`),
    revokeKey: (emailOrKeyId) => accounts.revoke(emailOrKeyId),
    expireAllTokens: () => tokens.expireAll(),
    issuedTokens: () => tokens.values(),
    grants,
    grantCount: (email) => grants.filter((g) => email === undefined || g.account === email).length,
    addInstance: (project, zone, seed) => {
      if (!isZone(zone)) throw new Error(`fake google: unknown zone ${zone}`);
      const machineType = seed.machineType ?? 'e2-medium';
      if (!MACHINE_TYPES.has(machineType)) throw new Error(`fake google: unknown machine type ${machineType}`);
      if (instances.get(project, zone, seed.name)) throw new Error(`fake google: instance ${seed.name} exists`);
      const status = seed.status ?? 'RUNNING';
      const instance = instances.create({
        project,
        zone,
        name: seed.name,
        machineType,
        status,
        labels: seed.labels ?? {},
        metadata: [],
        disk: { sizeGb: seed.diskSizeGb ?? 10, type: 'pd-balanced', image: 'projects/debian-cloud/global/images/family/debian-12' },
        creationTimestamp: googleTimestamp(now() - 86_400_000),
        lastStartTimestamp: seed.lastStartTimestamp ?? googleTimestamp(now() - 3_600_000),
        lastStopTimestamp: status === 'TERMINATED' ? googleTimestamp(now() - 60_000) : undefined,
      });
      return instanceResource(instance);
    },
    instance: (project, zone, name) => {
      operations.advance();
      const found = instances.get(project, zone, name);
      return found ? instanceResource(found) : undefined;
    },
    removeInstance: (project, zone, name) => {
      const found = instances.get(project, zone, name);
      if (!found) throw new Error(`fake google: no instance ${name} in ${project}/${zone}`);
      instances.remove(found);
    },
    operations: () => {
      operations.advance();
      return operations.all().map((o) => ({
        name: o.name,
        project: o.project,
        zone: o.zone,
        type: o.type,
        instance: o.instance,
        status: o.status,
        requestId: o.requestId,
        user: o.user,
        error: o.status === 'DONE' && o.failure ? o.failure.code : undefined,
      }));
    },
    failOperations: (match, failure, count = 1) => operations.failNext(match, failure, count),
    setLoad: (project, instanceName, profile, zone) => {
      const vm = zone ? instances.get(project, zone, instanceName) : instances.byName(project, instanceName);
      if (!vm) throw new Error(`fake google: no instance ${instanceName} in ${project}`);
      const existing = profiles.findIndex((p) => p.project === project && p.zone === vm.zone && p.instanceName === instanceName);
      if (existing >= 0) profiles.splice(existing, 1);
      profiles.push({ project, zone: vm.zone, instanceId: vm.id, instanceName, profile });
    },
    calls,
    resetCalls: () => {
      calls.length = 0;
    },
    failNext: (count, fault, match) => faults.failNext(count, fault, match),
    failAlways: (fault, match) => faults.failAlways(fault, match),
    clearFaults: () => {
      faults.clear();
      operations.clearFailures();
    },
  };
}
