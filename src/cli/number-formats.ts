import type { NumberFormat } from '../catalog/operation.js';

const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', minimumFractionDigits: 2, maximumFractionDigits: 2 });

const two = (n: number) => String(n).padStart(2, '0');

/** A duration as a person says it: 850ms, 12.5s, 4m 05s, 2h 03m, 3d 04h; the two largest units past a minute. */
export function duration(ms: number): string {
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  // Each unit is chosen after rounding, so 59.96 s reads 1m 00s, not 60s.
  if (Math.round(abs) < 1_000) return `${sign}${Math.round(abs)}ms`;
  const tenths = Math.round(abs / 100) / 10;
  if (tenths < 60) return `${sign}${tenths}s`;
  const s = Math.round(abs / 1_000);
  if (s < 3_600) return `${sign}${Math.floor(s / 60)}m ${two(s % 60)}s`;
  const m = Math.round(abs / 60_000);
  if (m < 1_440) return `${sign}${Math.floor(m / 60)}h ${two(m % 60)}m`;
  const h = Math.round(abs / 3_600_000);
  return `${sign}${Math.floor(h / 24)}d ${two(h % 24)}h`;
}

/** How each format shows a number, and the unit suffix of a field name it makes redundant in a header. */
export const NUMBER_FORMATS: Record<NumberFormat, { show: (n: number) => string; nameUnit?: RegExp }> = {
  usd: { show: (n) => usd.format(n), nameUnit: /Usd$/ },
  ms: { show: duration, nameUnit: /Ms$/ },
  fraction: { show: (n) => `${Math.round(n * 1000) / 10}%` },
};
