// Cloud Monitoring v3 projects.timeSeries.list over scripted load profiles. pageSize counts
// points (view FULL) or series (view HEADERS), so a series may continue on the next page.
import { createHash } from 'node:crypto';
import type { AccountStore } from './accounts.js';
import { GoogleError, insufficientScopes, monitoringErrorAnswer, rejectUnknownParameters, serviceDisabled, unauthenticated } from './errors.js';
import { htmlNotFound, matchPath, type Answer, type Request } from './http.js';
import { parseFilter } from './monitoring-filter.js';
import { CPU, METRIC_TYPES, querySeries, type Aligner, type ProfiledInstance, type Series } from './monitoring-series.js';
import { TokenStore } from './tokens.js';

const SCOPES = ['https://www.googleapis.com/auth/monitoring', 'https://www.googleapis.com/auth/monitoring.read', 'https://www.googleapis.com/auth/cloud-platform.read-only'];
const MAX_PAGE = 100_000;
const PARAMETERS = [
  'filter',
  'interval.startTime',
  'interval.endTime',
  'aggregation.alignmentPeriod',
  'aggregation.perSeriesAligner',
  'aggregation.crossSeriesReducer',
  'aggregation.groupByFields',
  'secondaryAggregation.alignmentPeriod',
  'secondaryAggregation.perSeriesAligner',
  'secondaryAggregation.crossSeriesReducer',
  'secondaryAggregation.groupByFields',
  'orderBy',
  'view',
  'pageSize',
  'pageToken',
];
const ALIGNERS = new Set<Aligner>(['ALIGN_NONE', 'ALIGN_MEAN', 'ALIGN_MAX', 'ALIGN_MIN']);

export interface MonitoringDeps {
  accounts: AccountStore;
  tokens: TokenStore;
  profiles: () => ProfiledInstance[];
}

const bad = (message: string) => new GoogleError(400, message, 'badRequest');

export function monitoringHandler(deps: MonitoringDeps) {
  return (req: Request): Answer => {
    const params = req.method === 'GET' ? matchPath('/v3/projects/:project/timeSeries', req.path) : undefined;
    if (!params) return htmlNotFound(req.path);
    const project = params.project ?? '';
    req.call.project = project;
    try {
      const token = deps.tokens.fromHeader(req.authorization);
      if (!token) throw unauthenticated();
      req.call.account = token.account;
      if (!TokenStore.allows(token, SCOPES)) throw insufficientScopes();
      if (!deps.accounts.find(token.account)?.projects.has(project)) {
        throw new GoogleError(403, 'Permission monitoring.timeSeries.list denied (or the resource may not exist).', 'forbidden');
      }
      if (deps.accounts.disabledApis.has(`monitoring:${project}`)) throw serviceDisabled('monitoring', project);
      rejectUnknownParameters(req.query, PARAMETERS);
      return list(deps, project, req.query);
    } catch (err) {
      if (!(err instanceof GoogleError)) throw err;
      return monitoringErrorAnswer(err);
    }
  };
}

function list(deps: MonitoringDeps, project: string, query: URLSearchParams): Answer {
  const filter = query.get('filter') ?? '';
  const clauses = parseFilter(filter);
  const type = clauses.find((c) => c.field === 'metric.type')?.value ?? '';
  if (!METRIC_TYPES.has(type)) throw new GoogleError(404, `Cannot find metric(s) that match type = "${type}".`, 'notFound');
  for (const name of PARAMETERS.filter((p) => p.startsWith('secondaryAggregation.') || p.endsWith('crossSeriesReducer') || p.endsWith('groupByFields'))) {
    if (query.get(name)) throw bad(`fake monitoring: '${name}' is not supported by this fake`);
  }
  if (query.get('orderBy')) throw bad('Field order_by had an invalid value: ordering is unsupported and must be left blank.');

  const end = timestamp(query.get('interval.endTime'), 'interval.endTime', true) as number;
  const start = timestamp(query.get('interval.startTime'), 'interval.startTime', false) ?? end - 60_000;
  if (start > end) throw bad('Field interval.start_time had an invalid value: The start time must be before the end time.');
  const { aligner, periodMs } = aggregation(query);
  const view = query.get('view') ?? 'FULL';
  if (view !== 'FULL' && view !== 'HEADERS') throw bad(`Invalid value at 'view' (type.googleapis.com/google.monitoring.v3.ListTimeSeriesRequest.TimeSeriesView), "${view}"`);
  const pageSize = pageSizeOf(query.get('pageSize'));

  const vms = deps.profiles().filter((p) => p.project === project);
  const series = querySeries(vms, { clauses, start, end, aligner, periodMs });
  const fingerprint = createHash('sha256').update(JSON.stringify([project, filter, start, end, aligner, periodMs, view])).digest('hex').slice(0, 16);
  const offset = readToken(query.get('pageToken'), fingerprint);
  const { page, next } = view === 'HEADERS' ? headersPage(series, offset, pageSize) : pointsPage(series, offset, pageSize);
  if (page.length === 0) return { status: 200, body: {} };
  const body: Record<string, unknown> = {
    timeSeries: page.map((s) => wire(s, view === 'FULL')),
    unit: type === CPU ? '10^2.%' : '%',
  };
  if (next !== undefined) body.nextPageToken = Buffer.from(JSON.stringify({ f: fingerprint, o: next })).toString('base64url');
  return { status: 200, body };
}

function timestamp(value: string | null, field: string, required: boolean): number | undefined {
  if (value === null || value === '') {
    if (required) throw bad(`Field ${field} had an invalid value of "": The ${field === 'interval.endTime' ? 'end' : 'start'} time must be specified.`);
    return undefined;
  }
  const ms = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,9})?(?:Z|[+-]\d\d:\d\d)$/.test(value) ? Date.parse(value) : NaN;
  if (Number.isNaN(ms)) throw bad(`Invalid value at '${field}' (type.googleapis.com/google.protobuf.Timestamp), Field '${field}', Illegal timestamp format; timestamps must end with 'Z' or have a valid timezone offset.`);
  return ms;
}

function aggregation(query: URLSearchParams): { aligner: Aligner; periodMs: number } {
  const rawAligner = query.get('aggregation.perSeriesAligner') ?? 'ALIGN_NONE';
  if (!ALIGNERS.has(rawAligner as Aligner)) throw bad(`fake monitoring: perSeriesAligner ${rawAligner} is not supported by this fake`);
  const aligner = rawAligner as Aligner;
  const rawPeriod = query.get('aggregation.alignmentPeriod');
  if (rawPeriod === null) {
    if (aligner !== 'ALIGN_NONE') throw bad('Field aggregation.alignmentPeriod had an invalid value: An alignment period must be specified when a per-series aligner is used.');
    return { aligner, periodMs: 60_000 };
  }
  const m = /^(\d+(?:\.\d{1,9})?)s$/.exec(rawPeriod);
  if (!m) throw bad(`Invalid value at 'aggregation.alignment_period' (type.googleapis.com/google.protobuf.Duration), Field 'alignmentPeriod', Illegal duration format; duration must end with 's'`);
  const periodMs = Number(m[1]) * 1000;
  if (aligner !== 'ALIGN_NONE' && periodMs < 60_000) throw bad('Field aggregation.alignmentPeriod had an invalid value: The alignment period must be at least 60 seconds.');
  return { aligner, periodMs };
}

function pageSizeOf(value: string | null): number {
  if (value === null) return MAX_PAGE;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw bad(`Invalid value at 'page_size' (TYPE_INT32), "${value}"`);
  return n === 0 || n > MAX_PAGE ? MAX_PAGE : n;
}

function readToken(token: string | null, fingerprint: string): number {
  if (!token) return 0;
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { f?: unknown; o?: unknown };
    if (parsed.f === fingerprint && typeof parsed.o === 'number') return parsed.o;
  } catch {
    // fall through
  }
  throw bad('Field page_token had an invalid value: the page token does not belong to this request.');
}

/** Offsets count points across series in order; a series split by a page boundary continues on the next. */
function pointsPage(series: Series[], offset: number, size: number): { page: Series[]; next?: number } {
  const page: Series[] = [];
  let seen = 0;
  let taken = 0;
  for (const s of series) {
    const from = Math.max(0, offset - seen);
    seen += s.points.length;
    if (from >= s.points.length) continue;
    const points = s.points.slice(from, from + (size - taken));
    page.push({ ...s, points });
    taken += points.length;
    if (taken >= size) break;
  }
  const total = series.reduce((n, s) => n + s.points.length, 0);
  return offset + taken < total ? { page, next: offset + taken } : { page };
}

function headersPage(series: Series[], offset: number, size: number): { page: Series[]; next?: number } {
  const page = series.slice(offset, offset + size);
  return offset + size < series.length ? { page, next: offset + size } : { page };
}

const iso = (ms: number) => new Date(ms).toISOString().replace('.000Z', 'Z');

function wire(s: Series, withPoints: boolean): Record<string, unknown> {
  return {
    metric: { labels: s.metric.labels, type: s.metric.type },
    resource: { type: s.resource.type, labels: s.resource.labels },
    metricKind: 'GAUGE',
    valueType: 'DOUBLE',
    ...(withPoints ? { points: s.points.map((p) => ({ interval: { startTime: iso(p.at), endTime: iso(p.at) }, value: { doubleValue: p.value } })) } : {}),
  };
}
