import { performance } from 'node:perf_hooks';
import { memoryUsage, resourceUsage } from 'node:process';

/**
 * Upper bounds (seconds) of the call latency buckets: from a cached secret read (under a
 * millisecond) to a VM resize waiting on Google (minutes).
 */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/** A label value as the text format wants it: backslash, double quote and newline escaped. */
const escapeLabel = (value: string) => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
const labelText = (labels: Record<string, string>) =>
  Object.entries(labels)
    .map(([name, value]) => `${name}="${escapeLabel(value)}"`)
    .join(',');

/** Why a request was refused before any operation ran. */
export type AuthRefusal = 'missing' | 'refused' | 'rate_limited';

interface Calls {
  labels: string;
  count: number;
}

interface Durations {
  labels: string;
  /** Count per bucket (not cumulative: summed when written). */
  buckets: number[];
  sum: number;
  count: number;
}

/** The process's own figures, as Prometheus's client libraries name them, so dashboards made for those work. */
function processLines(): string[] {
  const usage = resourceUsage();
  const memory = memoryUsage();
  return [
    '# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.',
    '# TYPE process_cpu_seconds_total counter',
    `process_cpu_seconds_total ${(usage.userCPUTime + usage.systemCPUTime) / 1e6}`,
    '# HELP process_cpu_user_seconds_total User CPU time spent, in seconds.',
    '# TYPE process_cpu_user_seconds_total counter',
    `process_cpu_user_seconds_total ${usage.userCPUTime / 1e6}`,
    '# HELP process_cpu_system_seconds_total System CPU time spent, in seconds.',
    '# TYPE process_cpu_system_seconds_total counter',
    `process_cpu_system_seconds_total ${usage.systemCPUTime / 1e6}`,
    '# HELP process_resident_memory_bytes Resident memory size, in bytes.',
    '# TYPE process_resident_memory_bytes gauge',
    `process_resident_memory_bytes ${memory.rss}`,
    '# HELP process_start_time_seconds Start time of the process since the Unix epoch, in seconds.',
    '# TYPE process_start_time_seconds gauge',
    `process_start_time_seconds ${Math.round(performance.timeOrigin / 1000)}`,
    '# HELP nodejs_heap_size_used_bytes V8 heap in use, in bytes.',
    '# TYPE nodejs_heap_size_used_bytes gauge',
    `nodejs_heap_size_used_bytes ${memory.heapUsed}`,
    '# HELP nodejs_external_memory_bytes Memory of C++ objects bound to JavaScript (buffers, the embedded database), in bytes.',
    '# TYPE nodejs_external_memory_bytes gauge',
    `nodejs_external_memory_bytes ${memory.external}`,
  ];
}

/**
 * Counters and latency histograms per operation, for `/metrics` in Prometheus's text format.
 * Every call from any interface is counted where the catalog records it. Labels come from
 * bounded sets only (the catalog's operation names, the interfaces, error codes), so a caller
 * naming operations that do not exist cannot grow the series without end. Kept in memory: a
 * restart starts the counters again, which Prometheus's rate() expects.
 */
export class OperationMetrics {
  private readonly calls = new Map<string, Calls>();
  private readonly durations = new Map<string, Durations>();
  private readonly refusals = new Map<AuthRefusal, number>();

  constructor(private readonly info: { version: string; build?: string }) {}

  /** One finished call: `operation` is a catalog name (or '(unknown)'), `outcome` 'ok' or an error code. */
  observe(operation: string, via: string, outcome: string, seconds: number): void {
    const callKey = `${operation}\u0000${via}\u0000${outcome}`;
    const calls = this.calls.get(callKey);
    if (calls) calls.count++;
    else this.calls.set(callKey, { labels: labelText({ operation, interface: via, outcome }), count: 1 });

    const durationKey = `${operation}\u0000${via}`;
    let durations = this.durations.get(durationKey);
    if (!durations) {
      durations = { labels: labelText({ operation, interface: via }), buckets: new Array<number>(BUCKETS.length).fill(0), sum: 0, count: 0 };
      this.durations.set(durationKey, durations);
    }
    const bucket = BUCKETS.findIndex((bound) => seconds <= bound);
    if (bucket !== -1) durations.buckets[bucket]!++;
    durations.sum += seconds;
    durations.count++;
  }

  /** A request refused before any operation, for want of a valid token: what an alert on probing or a revoked client watches. */
  refused(reason: AuthRefusal): void {
    this.refusals.set(reason, (this.refusals.get(reason) ?? 0) + 1);
  }

  /** The exposition text (version 0.0.4): build info, calls, durations, refusals, then the process's figures. */
  render(): string {
    const lines = [
      '# HELP supervisor_build_info The running build; always 1.',
      '# TYPE supervisor_build_info gauge',
      `supervisor_build_info{${labelText({ version: this.info.version, build: this.info.build ?? '' })}} 1`,
      '# HELP supervisor_operation_calls_total Operation calls finished, by operation, interface (rest, mcp, cli) and outcome (ok or the error code).',
      '# TYPE supervisor_operation_calls_total counter',
    ];
    for (const calls of this.calls.values()) lines.push(`supervisor_operation_calls_total{${calls.labels}} ${calls.count}`);
    lines.push('# HELP supervisor_operation_duration_seconds Time from a call reaching the catalog to its answer, in seconds.', '# TYPE supervisor_operation_duration_seconds histogram');
    for (const d of this.durations.values()) {
      let cumulative = 0;
      BUCKETS.forEach((bound, i) => {
        cumulative += d.buckets[i]!;
        lines.push(`supervisor_operation_duration_seconds_bucket{${d.labels},le="${bound}"} ${cumulative}`);
      });
      lines.push(`supervisor_operation_duration_seconds_bucket{${d.labels},le="+Inf"} ${d.count}`);
      lines.push(`supervisor_operation_duration_seconds_sum{${d.labels}} ${d.sum}`);
      lines.push(`supervisor_operation_duration_seconds_count{${d.labels}} ${d.count}`);
    }
    lines.push(
      '# HELP supervisor_auth_refusals_total Requests refused for their token, by reason: missing (none sent), refused (unknown or revoked), rate_limited (after many of those from one address).',
      '# TYPE supervisor_auth_refusals_total counter',
    );
    for (const [reason, count] of this.refusals) lines.push(`supervisor_auth_refusals_total{reason="${reason}"} ${count}`);
    lines.push(...processLines());
    return `${lines.join('\n')}\n`;
  }
}
