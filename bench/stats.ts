import { performance } from 'node:perf_hooks';

export interface LatencyStats {
  p50: number;
  p99: number;
  opsPerSec: number;
}

/**
 * Measures two functions in alternating chunks, so background load (other
 * processes on a 2-core machine) hits both alike and the ratio stays fair.
 */
export async function measurePair(n: number, a: () => Promise<unknown>, b: () => Promise<unknown>): Promise<[LatencyStats, LatencyStats]> {
  const chunk = 100;
  const runs: Array<{ samples: number[]; total: number }> = [{ samples: [], total: 0 }, { samples: [], total: 0 }];
  for (let i = 0; i < 200; i++) {
    await a();
    await b();
  }
  for (let done = 0; done < n; done += chunk) {
    for (const [index, fn] of [a, b].entries()) {
      const run = runs[index]!;
      for (let i = 0; i < chunk; i++) {
        const t = performance.now();
        await fn();
        const elapsed = performance.now() - t;
        run.samples.push(elapsed);
        run.total += elapsed;
      }
    }
  }
  const stats = (run: { samples: number[]; total: number }): LatencyStats => {
    const sorted = run.samples.sort((x, y) => x - y);
    return { p50: sorted[Math.floor(sorted.length * 0.5)]!, p99: sorted[Math.floor(sorted.length * 0.99)]!, opsPerSec: (sorted.length / run.total) * 1000 };
  };
  return [stats(runs[0]!), stats(runs[1]!)];
}

export const fmt = (ms: number) => `${(ms * 1000).toFixed(0)} µs`;

export function printComparison(label: string, subject: LatencyStats, baseline: LatencyStats, baselineLabel: string): void {
  console.log(`  ${label.padEnd(34)} p50 ${fmt(subject.p50).padStart(8)}  p99 ${fmt(subject.p99).padStart(8)}  ${subject.opsPerSec.toFixed(0).padStart(6)} ops/s`);
  console.log(`  ${baselineLabel.padEnd(34)} p50 ${fmt(baseline.p50).padStart(8)}  p99 ${fmt(baseline.p99).padStart(8)}  ${baseline.opsPerSec.toFixed(0).padStart(6)} ops/s`);
  console.log(`  ratio (p50 ${label} / baseline)`.padEnd(36) + `${(subject.p50 / baseline.p50).toFixed(2)}×`);
}
