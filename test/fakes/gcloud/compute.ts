// Compute Engine v1 routes: instances (list, aggregated list, get, insert, delete, start, stop,
// setMachineType) and zone operations (get, wait). Every call needs a bearer token issued by
// the fake OAuth server to an account allowed on the project in the path.
import { setTimeout as sleep } from 'node:timers/promises';
import type { InstanceStatus } from './types.js';
import type { AccountStore } from './accounts.js';
import { instancePath, MACHINE_SPECS, zoneLink, ZONES } from './compute-catalog.js';
import { operationResource, type Effects, type FakeOperation, type OperationStore, type OperationType } from './compute-operations.js';
import { googleTimestamp, instanceResource, type FakeInstance, type InstanceStore } from './compute-store.js';
import { checkInsert, checkInstanceName, checkRequestId, checkSetMachineType, checkZone, parseJsonBody } from './compute-validate.js';
import { computeErrorAnswer, GoogleError, insufficientScopes, invalid, notFound, rejectUnknownParameters, serviceDisabled, unauthenticated } from './errors.js';
import { htmlNotFound, matchPath, type Answer, type Request } from './http.js';
import { TokenStore } from './tokens.js';

export const COMPUTE_PREFIX = '/compute/v1';
const READ_SCOPES = ['https://www.googleapis.com/auth/compute', 'https://www.googleapis.com/auth/compute.readonly', 'https://www.googleapis.com/auth/cloud-platform.read-only'];
const WRITE_SCOPES = ['https://www.googleapis.com/auth/compute'];
const MAX_RESULTS = 500;

export interface ComputeDeps {
  accounts: AccountStore;
  tokens: TokenStore;
  instances: InstanceStore;
  operations: OperationStore;
  now: () => number;
  /** How long operations.wait holds before answering a not-yet-DONE operation (Google: 2 min). */
  waitDeadlineMs: number;
}

interface Ctx {
  deps: ComputeDeps;
  req: Request;
  params: Record<string, string>;
  user: string;
}

interface Route {
  method: string;
  pattern: string;
  permission: string;
  write: boolean;
  query: string[];
  handle(ctx: Ctx): Answer | Promise<Answer>;
}

const MUTATION_QUERY = ['requestId'];
const LIST_QUERY = ['maxResults', 'pageToken', 'filter', 'orderBy', 'returnPartialSuccess'];

const ROUTES: Route[] = [
  { method: 'GET', pattern: 'projects/:project/aggregated/instances', permission: 'compute.instances.list', write: false, query: [...LIST_QUERY, 'includeAllScopes', 'serviceProjectNumber'], handle: aggregatedList },
  { method: 'GET', pattern: 'projects/:project/zones/:zone/instances', permission: 'compute.instances.list', write: false, query: LIST_QUERY, handle: list },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/instances', permission: 'compute.instances.create', write: true, query: [...MUTATION_QUERY, 'sourceInstanceTemplate', 'sourceMachineImage'], handle: insert },
  { method: 'GET', pattern: 'projects/:project/zones/:zone/instances/:instance', permission: 'compute.instances.get', write: false, query: [], handle: get },
  { method: 'DELETE', pattern: 'projects/:project/zones/:zone/instances/:instance', permission: 'compute.instances.delete', write: true, query: MUTATION_QUERY, handle: remove },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/instances/:instance/start', permission: 'compute.instances.start', write: true, query: MUTATION_QUERY, handle: start },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/instances/:instance/resume', permission: 'compute.instances.resume', write: true, query: MUTATION_QUERY, handle: resume },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/instances/:instance/stop', permission: 'compute.instances.stop', write: true, query: [...MUTATION_QUERY, 'discardLocalSsd', 'noGracefulShutdown'], handle: stop },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/instances/:instance/setMachineType', permission: 'compute.instances.setMachineType', write: true, query: MUTATION_QUERY, handle: setMachineType },
  { method: 'GET', pattern: 'projects/:project/zones/:zone/machineTypes/:machineType', permission: 'compute.machineTypes.get', write: false, query: [], handle: getMachineType },
  { method: 'GET', pattern: 'projects/:project/zones/:zone/operations/:operation', permission: 'compute.zoneOperations.get', write: false, query: [], handle: getOperation },
  { method: 'POST', pattern: 'projects/:project/zones/:zone/operations/:operation/wait', permission: 'compute.zoneOperations.get', write: false, query: [], handle: waitOperation },
];

export function computeHandler(deps: ComputeDeps) {
  return async (req: Request): Promise<Answer> => {
    const relative = req.path.startsWith(`${COMPUTE_PREFIX}/`) ? req.path.slice(COMPUTE_PREFIX.length) : undefined;
    let route: Route | undefined;
    let params: Record<string, string> | undefined;
    for (const r of ROUTES) {
      params = relative === undefined || r.method !== req.method ? undefined : matchPath(r.pattern, relative);
      if (params) {
        route = r;
        break;
      }
    }
    if (!route || !params) return htmlNotFound(req.path);
    req.call.project = params.project;
    try {
      const user = authorize(deps, req, route, params.project ?? '');
      rejectUnknownParameters(req.query, route.query);
      if (params.zone !== undefined) checkZone(params.zone);
      if (params.instance !== undefined) checkInstanceName(params.instance);
      deps.operations.advance();
      return await route.handle({ deps, req, params, user });
    } catch (err) {
      if (!(err instanceof GoogleError)) throw err;
      return computeErrorAnswer(err);
    }
  };
}

function authorize(deps: ComputeDeps, req: Request, route: Route, project: string): string {
  const token = deps.tokens.fromHeader(req.authorization);
  if (!token) throw unauthenticated();
  req.call.account = token.account;
  if (!TokenStore.allows(token, route.write ? WRITE_SCOPES : READ_SCOPES)) throw insufficientScopes();
  if (!deps.accounts.find(token.account)?.projects.has(project)) {
    // A project no account may use does not exist here, and Google answers one that does not exist with 404.
    if (!deps.accounts.knownProjects().has(project)) throw notFound(`projects/${project}`);
    throw new GoogleError(403, `Required '${route.permission}' permission for 'projects/${project}'`, 'forbidden');
  }
  if (deps.accounts.disabledApis.has(`compute:${project}`)) throw serviceDisabled('compute', project);
  return token.account;
}

function ok(body: unknown): Answer {
  return { status: 200, body };
}

// ---- lists -------------------------------------------------------------------------------

function page<T>(items: T[], req: Request, scope: string): { slice: T[]; nextPageToken?: string } {
  for (const name of ['filter', 'orderBy']) {
    // Not implemented here; refusing beats silently answering unfiltered.
    if (req.query.get(name)) throw invalid(`fake compute: '${name}' is not supported by this fake`);
  }
  const raw = req.query.get('maxResults');
  const max = raw === null ? MAX_RESULTS : Number(raw);
  if (!Number.isInteger(max) || max < 0 || max > MAX_RESULTS) {
    throw invalid(`Invalid value for field 'maxResults': '${raw}'. Must be less than or equal to 500`);
  }
  const size = max === 0 ? MAX_RESULTS : max;
  const token = req.query.get('pageToken');
  const offset = token ? readPageToken(token, scope) : 0;
  const slice = items.slice(offset, offset + size);
  const next = offset + size < items.length ? Buffer.from(JSON.stringify({ scope, offset: offset + size })).toString('base64url') : undefined;
  return next ? { slice, nextPageToken: next } : { slice };
}

function readPageToken(token: string, scope: string): number {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { scope?: unknown; offset?: unknown };
    if (parsed.scope === scope && typeof parsed.offset === 'number') return parsed.offset;
  } catch {
    // fall through
  }
  throw invalid(`Invalid value for field 'pageToken': '${token}'. Invalid page token.`);
}

function list({ deps, req, params }: Ctx): Answer {
  const { project = '', zone = '' } = params;
  const id = `projects/${project}/zones/${zone}/instances`;
  const { slice, nextPageToken } = page(deps.instances.list(project, zone), req, id);
  return ok({
    kind: 'compute#instanceList',
    id,
    ...(slice.length ? { items: slice.map(instanceResource) } : {}),
    ...(nextPageToken ? { nextPageToken } : {}),
    selfLink: `https://www.googleapis.com/compute/v1/${id}`,
  });
}

/** Every zone appears as a scope; those without instances on this page carry a warning instead. */
function aggregatedList({ deps, req, params }: Ctx): Answer {
  const project = params.project ?? '';
  const id = `projects/${project}/aggregated/instances`;
  const { slice, nextPageToken } = page(deps.instances.list(project), req, id);
  const items: Record<string, unknown> = {};
  for (const zone of ZONES) {
    const here = slice.filter((i) => i.zone === zone);
    items[`zones/${zone}`] = here.length
      ? { instances: here.map(instanceResource) }
      : {
          warning: {
            code: 'NO_RESULTS_ON_PAGE',
            message: `There are no results for scope 'zones/${zone}' on this page.`,
            data: [{ key: 'scope', value: `zones/${zone}` }],
          },
        };
  }
  return ok({ kind: 'compute#instanceAggregatedList', id, items, ...(nextPageToken ? { nextPageToken } : {}), selfLink: `https://www.googleapis.com/compute/v1/${id}` });
}

// ---- single instances ----------------------------------------------------------------------

function instanceOr404(deps: ComputeDeps, params: Record<string, string>): FakeInstance {
  const { project = '', zone = '', instance = '' } = params;
  const found = deps.instances.get(project, zone, instance);
  if (!found) throw notFound(instancePath(project, zone, instance));
  return found;
}

function get({ deps, params }: Ctx): Answer {
  return ok(instanceResource(instanceOr404(deps, params)));
}

/**
 * Shared by every mutation: a repeated requestId answers the earlier operation without doing
 * anything again; otherwise `build` validates and returns the operation's effects.
 */
function mutate(ctx: Ctx, type: OperationType, build: () => { instance: FakeInstance; effects: Effects }): Answer {
  const { deps, req, params, user } = ctx;
  const { project = '', zone = '' } = params;
  const requestId = checkRequestId(req.query.get('requestId'));
  const prior = requestId ? deps.operations.byRequestId(project, zone, requestId) : undefined;
  if (prior) return ok(operationResource(prior));
  const { instance, effects } = build();
  const op = deps.operations.create({ project, zone, type, instance: instance.name, targetId: instance.id, user, requestId, effects });
  return ok(operationResource(op));
}

function notBusy(deps: ComputeDeps, instance: FakeInstance): void {
  if (deps.operations.busy(instance.project, instance.zone, instance.name)) {
    throw new GoogleError(400, `The resource '${instancePath(instance.project, instance.zone, instance.name)}' is not ready`, 'resourceNotReady');
  }
}

function insert(ctx: Ctx): Answer {
  const { deps, req, params } = ctx;
  const { project = '', zone = '' } = params;
  return mutate(ctx, 'insert', () => {
    const body = checkInsert(parseJsonBody(req.raw), project, zone);
    if (deps.instances.get(project, zone, body.name)) {
      throw new GoogleError(409, `The resource '${instancePath(project, zone, body.name)}' already exists`, 'alreadyExists');
    }
    const instance = deps.instances.create({
      project,
      zone,
      name: body.name,
      machineType: body.machineType,
      status: 'PROVISIONING',
      labels: body.labels,
      metadata: body.metadata,
      disk: body.disk,
      natIP: body.external ? `34.${Math.floor(Math.random() * 200) + 20}.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250) + 1}` : undefined,
      creationTimestamp: googleTimestamp(deps.now()),
    });
    return {
      instance,
      effects: {
        running: () => void (instance.status = 'STAGING'),
        done: () => {
          instance.status = 'RUNNING';
          instance.lastStartTimestamp = googleTimestamp(deps.now());
        },
        fail: () => deps.instances.remove(instance),
      },
    };
  });
}

function remove(ctx: Ctx): Answer {
  emptyBody(ctx.req);
  return mutate(ctx, 'delete', () => {
    const instance = instanceOr404(ctx.deps, ctx.params);
    notBusy(ctx.deps, instance);
    const before = instance.status;
    return {
      instance,
      effects: {
        running: () => void (instance.status = before === 'RUNNING' ? 'STOPPING' : before),
        done: () => ctx.deps.instances.remove(instance),
        fail: () => void (instance.status = before),
      },
    };
  });
}

/** start, stop and delete take no body; the API refuses one. */
function emptyBody(req: Request): void {
  if (req.raw.trim() !== '') throw invalid('The request body must be empty.');
}

/**
 * start and stop: nothing to do when the VM already is in the end state; else it passes through
 * a transitional status while the operation runs, and goes back to where it was if that fails.
 */
function powerChange(
  ctx: Ctx,
  kind: 'start' | 'stop' | 'resume',
  states: { passing: InstanceStatus; end: InstanceStatus; stamp: 'lastStartTimestamp' | 'lastStopTimestamp'; refuse?: (status: InstanceStatus) => string | undefined },
): Answer {
  emptyBody(ctx.req);
  return mutate(ctx, kind, () => {
    const instance = instanceOr404(ctx.deps, ctx.params);
    notBusy(ctx.deps, instance);
    const refusal = states.refuse?.(instance.status);
    if (refusal) throw invalid(refusal);
    if (instance.status === states.end) return { instance, effects: { done: () => undefined } };
    const before = instance.status;
    return {
      instance,
      effects: {
        running: () => void (instance.status = states.passing),
        done: () => {
          instance.status = states.end;
          instance[states.stamp] = googleTimestamp(ctx.deps.now());
        },
        fail: () => void (instance.status = before),
      },
    };
  });
}

// Start and resume are each refused for the other's VMs (as Terraform's provider works around);
// the wording of those refusals is not recorded.
const SUSPENDED: InstanceStatus[] = ['SUSPENDED', 'SUSPENDING'];

function start(ctx: Ctx): Answer {
  const refuse = (status: InstanceStatus) => (SUSPENDED.includes(status) ? `The instance '${ctx.params.instance}' is ${status.toLowerCase()}: use instances.resume.` : undefined);
  return powerChange(ctx, 'start', { passing: 'STAGING', end: 'RUNNING', stamp: 'lastStartTimestamp', refuse });
}

function resume(ctx: Ctx): Answer {
  const refuse = (status: InstanceStatus) => (status === 'SUSPENDED' ? undefined : `The instance '${ctx.params.instance}' is not suspended (${status}).`);
  return powerChange(ctx, 'resume', { passing: 'STAGING', end: 'RUNNING', stamp: 'lastStartTimestamp', refuse });
}

function stop(ctx: Ctx): Answer {
  return powerChange(ctx, 'stop', { passing: 'STOPPING', end: 'TERMINATED', stamp: 'lastStopTimestamp' });
}

function setMachineType(ctx: Ctx): Answer {
  const { project = '', zone = '' } = ctx.params;
  return mutate(ctx, 'setMachineType', () => {
    const instance = instanceOr404(ctx.deps, ctx.params);
    const type = checkSetMachineType(parseJsonBody(ctx.req.raw), project, zone);
    notBusy(ctx.deps, instance);
    if (instance.status !== 'TERMINATED') {
      // Wording as quoted in public issue reports of this refusal.
      throw new GoogleError(400, "Invalid resource usage: 'Instance should be in the STOPPED state.'", 'invalidResourceUsage');
    }
    return { instance, effects: { done: () => void (instance.machineType = type) } };
  });
}

function getMachineType({ params }: Ctx): Answer {
  const { project = '', zone = '', machineType = '' } = params;
  const spec = MACHINE_SPECS[machineType];
  if (!spec) throw notFound(`projects/${project}/zones/${zone}/machineTypes/${machineType}`);
  return ok({
    kind: 'compute#machineType',
    id: String(1000 + Object.keys(MACHINE_SPECS).indexOf(machineType)),
    name: machineType,
    description: `${spec.guestCpus} vCPU${spec.guestCpus > 1 ? 's' : ''}, ${spec.memoryMb / 1024} GB RAM`,
    guestCpus: spec.guestCpus,
    memoryMb: spec.memoryMb,
    maximumPersistentDisks: 128,
    maximumPersistentDisksSizeGb: '263168',
    zone,
    selfLink: `${zoneLink(project, zone)}/machineTypes/${machineType}`,
    isSharedCpu: spec.isSharedCpu ?? false,
  });
}

// ---- operations ----------------------------------------------------------------------------

function operationOr404(deps: ComputeDeps, params: Record<string, string>): FakeOperation {
  const { project = '', zone = '', operation = '' } = params;
  const op = deps.operations.find(project, zone, operation);
  if (!op) throw notFound(`projects/${project}/zones/${zone}/operations/${operation}`);
  return op;
}

function getOperation({ deps, params }: Ctx): Answer {
  return ok(operationResource(operationOr404(deps, params)));
}

async function waitOperation({ deps, req, params }: Ctx): Promise<Answer> {
  emptyBody(req);
  const op = operationOr404(deps, params);
  const remaining = deps.operations.remaining(op);
  if (remaining > 0) {
    const held = await sleep(Math.min(remaining + 1, deps.waitDeadlineMs), true, { signal: req.gone }).catch(() => false);
    if (!held) return ok({}); // the caller hung up: nobody reads this answer
    deps.operations.advance();
  }
  return ok(operationResource(op));
}
