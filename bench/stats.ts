import { performance } from 'node:perf_hooks';

export interface LatencyStats {
  p50: number;
  p99: number;
  opsPerSec: number;
}

/** Runs `fn` `n` times one after another (after a warm-up) and reports latency percentiles in ms. */
export async function measure(n: number, fn: () => Promise<unknown>): Promise<LatencyStats> {
  for (let i = 0; i < Math.min(200, n / 10); i++) await fn();
  const samples = new Float64Array(n);
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    samples[i] = performance.now() - t;
  }
  const total = performance.now() - started;
  samples.sort();
  return { p50: samples[Math.floor(n * 0.5)]!, p99: samples[Math.floor(n * 0.99)]!, opsPerSec: (n / total) * 1000 };
}

export const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

export function printComparison(label: string, subject: LatencyStats, baseline: LatencyStats, baselineLabel: string): void {
  console.log(`  ${label.padEnd(34)} p50 ${fmt(subject.p50).padStart(8)}  p99 ${fmt(subject.p99).padStart(8)}  ${subject.opsPerSec.toFixed(0).padStart(6)} ops/s`);
  console.log(`  ${baselineLabel.padEnd(34)} p50 ${fmt(baseline.p50).padStart(8)}  p99 ${fmt(baseline.p99).padStart(8)}  ${baseline.opsPerSec.toFixed(0).padStart(6)} ops/s`);
  console.log(`  ratio (p50 ${label} / baseline)`.padEnd(36) + `${(subject.p50 / baseline.p50).toFixed(2)}×`);
}
