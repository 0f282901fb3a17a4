// Cloud Monitoring v3 timeSeries.list over fetch, and a VM's recent CPU, memory and disk.
//
// A typed fetch client rather than a library: this is one GET with a few query parameters.
// Pages are followed by nextPageToken; with the default FULL view pageSize counts points, so
// one series can continue on the next page and is merged back by its labels.
import { setTimeout as delay } from 'node:timers/promises';
import { systemClock, type Clock } from '../core/clock.js';
import { conflict, invalidInput } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { networkCause, type AccessTokenProvider } from './auth.js';
import { callGoogle, envelopeFailure, GoogleHttpError, nextPage, type CallPolicy } from './google-call.js';

export const DEFAULT_MONITORING_URL = 'https://monitoring.googleapis.com/v3';
export const CPU_METRIC = 'compute.googleapis.com/instance/cpu/utilization';
export const MEMORY_METRIC = 'agent.googleapis.com/memory/percent_used';
export const DISK_METRIC = 'agent.googleapis.com/disk/percent_used';
const MAX_WINDOW_MINUTES = 6 * 7 * 24 * 60;
/** Google's documented one-line install of the Ops Agent on a Linux VM. */
export const OPS_AGENT_INSTALL = 'curl -sSO https://dl.google.com/cloudagents/add-google-cloud-ops-agent-repo.sh && sudo bash add-google-cloud-ops-agent-repo.sh --also-install';

export interface MonitoringClientOptions {
  tokens: AccessTokenProvider;
  baseUrl?: string;
  /** Points per page (the API's maximum is 100,000). Default 10,000. */
  pageSize?: number;
  timeoutMs?: number;
  maxRetries?: number;
  sleep?: (ms: number) => Promise<void>;
  clock?: Clock;
  log?: Pick<Logger, 'warn'>;
}

export interface TimeSeriesQuery {
  filter: string;
  start: Date;
  end: Date;
  /** Default 60 s with ALIGN_MEAN: one point a minute. */
  alignmentSeconds?: number;
  aligner?: 'ALIGN_MEAN' | 'ALIGN_MAX' | 'ALIGN_MIN' | 'ALIGN_NONE';
}

export interface TimeSeries {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: string; labels: Record<string, string> };
  /** Newest first, as the API returns them. */
  points: Array<{ at: Date; value: number }>;
}

export interface MetricSummary {
  /** Percent, 0–100 (CPU is converted from the API's 0–1 fraction). */
  average: number;
  max: number;
  latest: number;
  latestAt: string;
  /** One-minute samples with data. */
  samples: number;
  expectedSamples: number;
  /** samples / expectedSamples, 0–1. */
  coverage: number;
}

export interface VmHealth {
  project: string;
  instanceName: string;
  instanceId?: string;
  minutes: number;
  from: string;
  to: string;
  cpu: MetricSummary | null;
  memory: MetricSummary | null;
  disk: MetricSummary | null;
  opsAgent: {
    /** reporting: memory and disk arrive; missing: they do not; unknown: the VM's id is unknown (no CPU data either). */
    status: 'reporting' | 'missing' | 'unknown';
    missing: Array<'memory' | 'disk'>;
    message?: string;
  };
}

export interface VmHealthRequest {
  project: string;
  instanceName: string;
  /** Narrows the lookup when names repeat across zones. */
  zone?: string;
  /** Needed for memory and disk (agent metrics carry no instance name); found from the CPU series otherwise. */
  instanceId?: string;
  minutes: number;
}

interface WireSeries {
  metric?: { type?: string; labels?: Record<string, string> };
  resource?: { type?: string; labels?: Record<string, string> };
  points?: Array<{ interval?: { endTime?: string }; value?: { doubleValue?: number; int64Value?: string } }>;
}

export class MonitoringClient {
  private readonly baseUrl: string;
  private readonly clock: Clock;
  private readonly policy: CallPolicy;

  constructor(private readonly options: MonitoringClientOptions) {
    this.baseUrl = (options.baseUrl ?? DEFAULT_MONITORING_URL).replace(/\/+$/, '');
    this.clock = options.clock ?? systemClock;
    this.policy = { maxRetries: options.maxRetries, sleep: options.sleep ?? ((ms) => delay(ms).then(() => undefined)), log: options.log };
  }

  /** Every series matching the filter, all pages read, points newest first. */
  async listTimeSeries(project: string, query: TimeSeriesQuery): Promise<TimeSeries[]> {
    const merged = new Map<string, TimeSeries>();
    const seen = new Set<string>();
    let pageToken: string | undefined;
    do {
      const url = this.url(project, query, pageToken);
      const page = await callGoogle(`monitoring timeSeries.list projects/${project}`, this.options.tokens, (token) => this.fetchPage(url, token), this.policy);
      for (const wire of page.timeSeries ?? []) {
        const series = toSeries(wire);
        const key = JSON.stringify([series.metric, series.resource]);
        const seen = merged.get(key);
        if (seen) seen.points.push(...series.points);
        else merged.set(key, series);
      }
      pageToken = nextPage(`monitoring timeSeries.list projects/${project}`, seen, page.nextPageToken);
    } while (pageToken);
    for (const s of merged.values()) s.points.sort((a, b) => b.at.getTime() - a.at.getTime());
    return [...merged.values()];
  }

  async vmHealth(req: VmHealthRequest): Promise<VmHealth> {
    // GCE metrics are kept six weeks; a longer window would silently read as low coverage.
    if (!Number.isInteger(req.minutes) || req.minutes < 1 || req.minutes > MAX_WINDOW_MINUTES) {
      throw invalidInput(`minutes must be a whole number from 1 to ${MAX_WINDOW_MINUTES} (six weeks), got ${req.minutes}`);
    }
    const end = this.clock.now();
    const start = new Date(end.getTime() - req.minutes * 60_000);
    const window = { start, end };
    const scope = [req.zone ? `resource.labels.zone = ${quote(req.zone)}` : undefined, req.instanceId ? `resource.labels.instance_id = ${quote(req.instanceId)}` : undefined].filter(Boolean);
    const cpuSeries = await this.listTimeSeries(req.project, { ...window, filter: [`metric.type = ${quote(CPU_METRIC)}`, `metric.labels.instance_name = ${quote(req.instanceName)}`, ...scope].join(' AND ') });
    const ids = [...new Set(cpuSeries.map((s) => s.resource.labels.instance_id).filter((id): id is string => Boolean(id)))];
    if (!req.instanceId && ids.length > 1) {
      const zones = cpuSeries.map((s) => s.resource.labels.zone).join(', ');
      throw conflict(`more than one VM is named ${req.instanceName} in ${req.project} (zones ${zones}); say which zone`, { zones });
    }
    const instanceId = req.instanceId ?? ids[0];
    const base: VmHealth = {
      project: req.project,
      instanceName: req.instanceName,
      ...(instanceId ? { instanceId } : {}),
      minutes: req.minutes,
      from: start.toISOString(),
      to: end.toISOString(),
      cpu: summarize(cpuSeries, req.minutes, 100),
      memory: null,
      disk: null,
      opsAgent: { status: 'unknown', missing: [] },
    };
    if (!instanceId) {
      base.opsAgent.message = `no CPU data for ${req.instanceName} in the last ${req.minutes} minutes, so its memory and disk could not be looked up (is it running?)`;
      return base;
    }
    const agentFilter = (metric: string) => [`metric.type = ${quote(metric)}`, `resource.labels.instance_id = ${quote(instanceId)}`, 'metric.labels.state = "used"'].join(' AND ');
    const [memory, disk] = await Promise.all([
      this.listTimeSeries(req.project, { ...window, filter: agentFilter(MEMORY_METRIC) }),
      this.listTimeSeries(req.project, { ...window, filter: agentFilter(DISK_METRIC) }),
    ]);
    base.memory = summarize(memory, req.minutes, 1);
    base.disk = summarize(disk, req.minutes, 1);
    const missing = (['memory', 'disk'] as const).filter((m) => base[m] === null);
    base.opsAgent = missing.length
      ? {
          status: 'missing',
          missing,
          message: `Ops Agent metrics missing for ${req.instanceName} (${missing.join(', ')}): install the Ops Agent on the VM with \`${OPS_AGENT_INSTALL}\``,
        }
      : { status: 'reporting', missing: [] };
    return base;
  }

  private url(project: string, q: TimeSeriesQuery, pageToken?: string): string {
    const params = new URLSearchParams({
      filter: q.filter,
      'interval.startTime': q.start.toISOString(),
      'interval.endTime': q.end.toISOString(),
    });
    const aligner = q.aligner ?? 'ALIGN_MEAN';
    if (aligner !== 'ALIGN_NONE') {
      params.set('aggregation.alignmentPeriod', `${q.alignmentSeconds ?? 60}s`);
      params.set('aggregation.perSeriesAligner', aligner);
    }
    params.set('pageSize', String(this.options.pageSize ?? 10_000));
    if (pageToken) params.set('pageToken', pageToken);
    return `${this.baseUrl}/projects/${encodeURIComponent(project)}/timeSeries?${params.toString()}`;
  }

  private async fetchPage(url: string, token: string): Promise<{ timeSeries?: WireSeries[]; nextPageToken?: string }> {
    let res: Response;
    let text: string;
    try {
      res = await fetch(url, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/json' }, signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000) });
      text = await res.text();
    } catch (err) {
      throw new GoogleHttpError({ message: `network error: ${networkCause(err)}` });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    if (!res.ok) throw new GoogleHttpError(envelopeFailure(res.status, body, res.headers.get('retry-after')));
    if (typeof body !== 'object' || body === null) throw new GoogleHttpError({ status: 502, message: 'answer was not a JSON object' });
    return body as { timeSeries?: WireSeries[]; nextPageToken?: string };
  }
}

/** Filter strings are double-quoted; backslash and quote are escaped. */
function quote(value: string): string {
  return `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function toSeries(wire: WireSeries): TimeSeries {
  const points = (wire.points ?? []).flatMap((p) => {
    const at = p.interval?.endTime ? new Date(p.interval.endTime) : undefined;
    const value = p.value?.doubleValue ?? (p.value?.int64Value === undefined ? undefined : Number(p.value.int64Value));
    return at && typeof value === 'number' && Number.isFinite(value) ? [{ at, value }] : [];
  });
  return {
    metric: { type: wire.metric?.type ?? '', labels: { ...(wire.metric?.labels ?? {}) } },
    resource: { type: wire.resource?.type ?? '', labels: { ...(wire.resource?.labels ?? {}) } },
    points,
  };
}

/**
 * One value a minute across all series (the highest when several report the same minute,
 * e.g. two disks), scaled to percent; null when there is no data at all.
 */
export function summarize(series: TimeSeries[], minutes: number, scale: number): MetricSummary | null {
  const byMinute = new Map<number, number>();
  for (const s of series) {
    for (const p of s.points) {
      const at = p.at.getTime();
      byMinute.set(at, Math.max(byMinute.get(at) ?? -Infinity, p.value * scale));
    }
  }
  if (byMinute.size === 0) return null;
  const newestFirst = [...byMinute.entries()].sort((a, b) => b[0] - a[0]);
  const values = newestFirst.map(([, v]) => v);
  const [latestAt, latest] = newestFirst[0] as [number, number];
  const expected = Math.max(1, Math.round(minutes));
  return {
    average: round(values.reduce((a, b) => a + b, 0) / values.length),
    max: round(Math.max(...values)),
    latest: round(latest),
    latestAt: new Date(latestAt).toISOString(),
    samples: values.length,
    expectedSamples: expected,
    coverage: round(Math.min(1, values.length / expected), 3),
  };
}

const round = (n: number, digits = 2) => Math.round(n * 10 ** digits) / 10 ** digits;
