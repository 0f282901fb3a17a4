// Time series produced from scripted load profiles: one raw point a minute per series, then
// optionally aligned per period (ALIGN_MEAN/MAX/MIN), newest point first as the API returns.
import type { Clause } from './monitoring-filter.js';
import type { LoadProfile, Sampler } from './types.js';

export const CPU = 'compute.googleapis.com/instance/cpu/utilization';
export const MEMORY = 'agent.googleapis.com/memory/percent_used';
export const DISK = 'agent.googleapis.com/disk/percent_used';
export const METRIC_TYPES = new Set([CPU, MEMORY, DISK]);
const SAMPLE_MS = 60_000;

export interface ProfiledInstance {
  project: string;
  zone: string;
  instanceId: string;
  instanceName: string;
  profile: LoadProfile;
}

export interface Point {
  at: number;
  value: number;
}

export interface Series {
  metric: { type: string; labels: Record<string, string> };
  resource: { type: 'gce_instance'; labels: Record<string, string> };
  /** Newest first. */
  points: Point[];
}

export type Aligner = 'ALIGN_NONE' | 'ALIGN_MEAN' | 'ALIGN_MAX' | 'ALIGN_MIN';

export interface SeriesQuery {
  clauses: Clause[];
  start: number;
  end: number;
  aligner: Aligner;
  periodMs: number;
}

/** One instance's series before filtering: CPU always, agent metrics only with the Ops Agent. */
function seriesOf(vm: ProfiledInstance): Array<{ type: string; labels: Record<string, string>; value: (at: number) => number | undefined; samples?: Sampler }> {
  const { profile } = vm;
  const agent = profile.opsAgent ?? (profile.memory !== undefined || profile.disk !== undefined);
  const out: ReturnType<typeof seriesOf> = [{ type: CPU, labels: { instance_name: vm.instanceName }, value: (at) => clamp(sample(profile.cpu, at), 0, 1), samples: profile.cpu }];
  if (agent && profile.memory !== undefined) {
    const memory = profile.memory;
    const used = (at: number) => clamp(sample(memory, at), 0, 100);
    const cached = (at: number) => Math.min(10, 100 - (used(at) ?? 0));
    out.push(
      { type: MEMORY, labels: { state: 'used' }, value: used, samples: memory },
      { type: MEMORY, labels: { state: 'cached' }, value: cached, samples: memory },
      { type: MEMORY, labels: { state: 'free' }, value: (at) => 100 - (used(at) ?? 0) - cached(at), samples: memory },
    );
  }
  if (agent && profile.disk !== undefined) {
    const disk = profile.disk;
    const used = (at: number) => clamp(sample(disk, at), 0, 100);
    out.push(
      { type: DISK, labels: { device: 'sda1', state: 'used' }, value: used, samples: disk },
      { type: DISK, labels: { device: 'sda1', state: 'free' }, value: (at) => 100 - (used(at) ?? 0), samples: disk },
      { type: DISK, labels: { device: 'sda1', state: 'reserved' }, value: () => 0, samples: disk },
    );
  }
  return out;
}

export function querySeries(vms: ProfiledInstance[], q: SeriesQuery): Series[] {
  const out: Series[] = [];
  for (const vm of vms) {
    const resource = { type: 'gce_instance' as const, labels: { project_id: vm.project, instance_id: vm.instanceId, zone: vm.zone } };
    for (const s of seriesOf(vm)) {
      if (!q.clauses.every((c) => matches(c, s.type, s.labels, resource))) continue;
      const from = Math.max(q.start, vm.profile.from?.getTime() ?? -Infinity);
      const raw = rawPoints(s.samples, s.value, from, q.end);
      const points = q.aligner === 'ALIGN_NONE' ? raw : align(raw, q.end, q.periodMs, q.aligner);
      if (points.length) out.push({ metric: { type: s.type, labels: s.labels }, resource, points });
    }
  }
  return out;
}

function matches(c: Clause, type: string, labels: Record<string, string>, resource: Series['resource']): boolean {
  if (c.field === 'metric.type') return c.value === type;
  if (c.field === 'resource.type') return c.value === resource.type;
  if (c.field.startsWith('metric.labels.')) return labels[c.field.slice('metric.labels.'.length)] === c.value;
  return resource.labels[c.field.slice('resource.labels.'.length)] === c.value;
}

/** Points in (from, end], newest first: recorded samples as given, otherwise one a minute. */
function rawPoints(samples: Sampler | undefined, value: (at: number) => number | undefined, from: number, end: number): Point[] {
  if (Array.isArray(samples)) {
    return samples
      .map((s) => ({ at: s.at.getTime(), value: value(s.at.getTime()) }))
      .filter((p): p is Point => p.value !== undefined && p.at > from && p.at <= end)
      .sort((a, b) => b.at - a.at);
  }
  const points: Point[] = [];
  for (let at = Math.floor(end / SAMPLE_MS) * SAMPLE_MS; at > from; at -= SAMPLE_MS) {
    const v = value(at);
    if (v !== undefined) points.push({ at, value: v });
  }
  return points;
}

/** Buckets (t - period, t] ending at the query's end time, as the API aligns them. */
function align(raw: Point[], end: number, periodMs: number, aligner: Aligner): Point[] {
  const buckets = new Map<number, number[]>();
  for (const p of raw) {
    const bucketEnd = end - Math.floor((end - p.at) / periodMs) * periodMs;
    buckets.set(bucketEnd, [...(buckets.get(bucketEnd) ?? []), p.value]);
  }
  return [...buckets.entries()]
    .sort((a, b) => b[0] - a[0])
    .map(([at, values]) => ({
      at,
      value: aligner === 'ALIGN_MAX' ? Math.max(...values) : aligner === 'ALIGN_MIN' ? Math.min(...values) : values.reduce((a, b) => a + b, 0) / values.length,
    }));
}

function sample(sampler: Sampler, at: number): number | undefined {
  if (typeof sampler === 'number') return sampler;
  if (typeof sampler === 'function') return sampler(new Date(at));
  return sampler.find((s) => s.at.getTime() === at)?.value;
}

function clamp(value: number | undefined, lo: number, hi: number): number | undefined {
  return value === undefined ? undefined : Math.min(hi, Math.max(lo, value));
}
