// Compute Engine v1 for one service account: list, get, insert, delete, start, stop and
// setMachineType, through Google's client with our token provider.
//
// Every mutation carries a requestId (a UUID made once per logical change and reused on each
// retry), so a retry after a lost answer returns the first operation instead of acting twice;
// then it waits on the zone operation until DONE and surfaces the operation's errors.
import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import type { Logger } from '../core/log.js';
import type { AccessTokenProvider } from './auth.js';
import { DEFAULT_COMPUTE_ROOT, dataOf, loadComputeApi, requestOptions, type ComputeApi, type compute_v1 } from './compute-api.js';
import { callGoogle, nextPage, type CallPolicy } from './google-call.js';
import { insertBody, machineTypePath, toVmInstance, type InstanceRef, type InstanceSpec, type VmInstance } from './instance.js';
import { waitForOperation, type WaitOptions } from './zone-operation.js';

export type { InstanceRef, InstanceSpec, VmInstance } from './instance.js';
export type { OperationProgress, WaitOptions } from './zone-operation.js';

export interface ComputeClientOptions {
  tokens: AccessTokenProvider;
  /** Default https://compute.googleapis.com/ */
  rootUrl?: string;
  /** Retries for 429/5xx/network failures. Default 4. */
  maxRetries?: number;
  /** Per-request timeout (operations.wait gets its own, longer one). Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Pause between operation polls that came back before DONE. Default 2,000 ms. */
  pollIntervalMs?: number;
  /** Default for waits on operations. Default 10 minutes. */
  operationTimeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  log?: Pick<Logger, 'warn'>;
  /** maxResults per list page. Default 500, the API's maximum. */
  pageSize?: number;
  /** Makes requestIds; tests pin them. Default crypto.randomUUID. */
  newRequestId?: () => string;
}

export interface MutationOptions extends WaitOptions {
  /** Reuse a requestId from an earlier attempt of the same change (default: a new UUID). */
  requestId?: string;
}

export interface MachineTypeInfo {
  name: string;
  guestCpus: number;
  memoryMb: number;
  /** e2-micro, e2-small, e2-medium: a share of a core, not whole vCPUs. */
  sharedCpu: boolean;
}

export interface OperationOutcome {
  operation: string;
  type: string;
  requestId: string;
  target: string;
  startedAt?: string;
  endedAt?: string;
}

export class ComputeClient {
  readonly account: string;
  private readonly rootUrl: string;
  private readonly timeoutMs: number;
  private readonly policy: CallPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private api?: Promise<ComputeApi>;

  constructor(private readonly options: ComputeClientOptions) {
    this.account = options.tokens.account;
    this.rootUrl = options.rootUrl ?? DEFAULT_COMPUTE_ROOT;
    this.timeoutMs = options.requestTimeoutMs ?? 30_000;
    this.sleep = options.sleep ?? ((ms) => delay(ms).then(() => undefined));
    this.policy = { maxRetries: options.maxRetries, sleep: this.sleep, log: options.log };
  }

  /** Instances of one zone, or of every zone (aggregated list) when `zone` is left out. */
  async list(project: string, zone?: string): Promise<VmInstance[]> {
    const api = await this.loaded();
    const maxResults = this.options.pageSize ?? 500;
    const out: VmInstance[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const where = zone ? `projects/${project}/zones/${zone}/instances` : `projects/${project}/aggregated/instances`;
      const token = pageToken;
      const page = await this.call<compute_v1.Schema$InstanceList | compute_v1.Schema$InstanceAggregatedList>(`compute instances.${zone ? 'list' : 'aggregatedList'} ${where}`, (auth) =>
        zone
          ? dataOf<compute_v1.Schema$InstanceList | compute_v1.Schema$InstanceAggregatedList>(api.instances.list({ project, zone, maxResults, pageToken: token }, requestOptions(auth, this.timeoutMs)))
          : dataOf(api.instances.aggregatedList({ project, maxResults, pageToken: token }, requestOptions(auth, this.timeoutMs))),
      );
      out.push(...instancesOf(page).map((raw) => toVmInstance(project, raw)));
      pageToken = nextPage(`compute list of ${where}`, seen, page.nextPageToken);
    } while (pageToken);
    return out;
  }

  /**
   * Whether the key may list the project's VMs, as every fleet-wide read does: one VM of the
   * aggregated list, read and dropped. Refused (403 for a project it has no role on, 404 for one
   * that does not exist) as any call is.
   */
  async assertListable(project: string): Promise<void> {
    const api = await this.loaded();
    await this.call(`compute instances.aggregatedList projects/${project}/aggregated/instances`, (auth) =>
      dataOf(api.instances.aggregatedList({ project, maxResults: 1 }, requestOptions(auth, this.timeoutMs))),
    );
  }

  async get(ref: InstanceRef): Promise<VmInstance> {
    const api = await this.loaded();
    const raw = await this.call(`compute instances.get ${path(ref)}`, (auth) =>
      dataOf(api.instances.get({ project: ref.project, zone: ref.zone, instance: ref.name }, requestOptions(auth, this.timeoutMs))),
    );
    return toVmInstance(ref.project, raw);
  }

  /** A machine type as offered in a zone; not_found when the zone does not offer it. */
  async machineType(project: string, zone: string, name: string): Promise<MachineTypeInfo> {
    const api = await this.loaded();
    const raw = await this.call(`compute machineTypes.get projects/${project}/zones/${zone}/machineTypes/${name}`, (auth) =>
      dataOf(api.machineTypes.get({ project, zone, machineType: name }, requestOptions(auth, this.timeoutMs))),
    );
    return { name: raw.name ?? name, guestCpus: raw.guestCpus ?? 0, memoryMb: raw.memoryMb ?? 0, sharedCpu: raw.isSharedCpu ?? false };
  }

  async insert(spec: InstanceSpec, options: MutationOptions = {}): Promise<OperationOutcome> {
    const requestBody = insertBody(spec);
    return this.mutate('insert', spec, options, (api, requestId, auth) =>
      api.instances.insert({ project: spec.project, zone: spec.zone, requestId, requestBody }, requestOptions(auth, this.timeoutMs)),
    );
  }

  async delete(ref: InstanceRef, options: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutate('delete', ref, options, (api, requestId, auth) =>
      api.instances.delete({ project: ref.project, zone: ref.zone, instance: ref.name, requestId }, requestOptions(auth, this.timeoutMs)),
    );
  }

  async start(ref: InstanceRef, options: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutate('start', ref, options, (api, requestId, auth) =>
      api.instances.start({ project: ref.project, zone: ref.zone, instance: ref.name, requestId }, requestOptions(auth, this.timeoutMs)),
    );
  }

  /** A SUSPENDED instance is brought back by resume (its memory kept), not start. */
  async resume(ref: InstanceRef, options: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutate('resume', ref, options, (api, requestId, auth) =>
      api.instances.resume({ project: ref.project, zone: ref.zone, instance: ref.name, requestId }, requestOptions(auth, this.timeoutMs)),
    );
  }

  async stop(ref: InstanceRef, options: MutationOptions = {}): Promise<OperationOutcome> {
    return this.mutate('stop', ref, options, (api, requestId, auth) =>
      api.instances.stop({ project: ref.project, zone: ref.zone, instance: ref.name, requestId }, requestOptions(auth, this.timeoutMs)),
    );
  }

  /** Only for a TERMINATED instance (the API refuses otherwise); resize() does the stop/start around it. */
  async setMachineType(ref: InstanceRef, machineType: string, options: MutationOptions = {}): Promise<OperationOutcome> {
    const requestBody = { machineType: machineTypePath(ref.zone, machineType) };
    return this.mutate('setMachineType', ref, options, (api, requestId, auth) =>
      api.instances.setMachineType({ project: ref.project, zone: ref.zone, instance: ref.name, requestId, requestBody }, requestOptions(auth, this.timeoutMs)),
    );
  }

  private async mutate(
    verb: string,
    ref: InstanceRef,
    options: MutationOptions,
    send: (api: ComputeApi, requestId: string, auth: string) => Promise<{ data: compute_v1.Schema$Operation }>,
  ): Promise<OperationOutcome> {
    const api = await this.loaded();
    const requestId = options.requestId ?? (this.options.newRequestId ?? randomUUID)();
    const started = await this.call(`compute instances.${verb} ${path(ref)}`, (auth) => dataOf(send(api, requestId, auth)));
    const done = await waitForOperation(
      {
        api,
        tokens: this.options.tokens,
        policy: this.policy,
        clock: this.options.clock ?? systemClock,
        sleep: this.sleep,
        pollIntervalMs: this.options.pollIntervalMs ?? 2000,
      },
      ref.project,
      ref.zone,
      started,
      { timeoutMs: options.timeoutMs ?? this.options.operationTimeoutMs, onProgress: options.onProgress },
    );
    return {
      operation: done.name ?? '',
      type: done.operationType ?? verb,
      requestId,
      target: path(ref),
      ...(done.startTime ? { startedAt: done.startTime } : {}),
      ...(done.endTime ? { endedAt: done.endTime } : {}),
    };
  }

  private call<T>(what: string, attempt: (token: string) => Promise<T>): Promise<T> {
    return callGoogle(what, this.options.tokens, attempt, this.policy);
  }

  private loaded(): Promise<ComputeApi> {
    this.api ??= loadComputeApi(this.rootUrl);
    return this.api;
  }
}

const path = (ref: InstanceRef) => `projects/${ref.project}/zones/${ref.zone}/instances/${ref.name}`;

/** Zone lists carry items[]; aggregated lists carry items{scope: {instances?, warning?}}. */
function instancesOf(page: compute_v1.Schema$InstanceList | compute_v1.Schema$InstanceAggregatedList): compute_v1.Schema$Instance[] {
  const items = page.items;
  if (Array.isArray(items)) return items;
  return Object.values(items ?? {}).flatMap((scope) => scope.instances ?? []);
}
