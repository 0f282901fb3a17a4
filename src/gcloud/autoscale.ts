// The autoscaler's decision, as a pure function of what it is shown: the VM's machine type,
// the ladder of types it may move along, the policy, a metrics summary over the window, when
// the type last changed, when the VM last started, and now. No I/O, no clock of its own, so
// every rule can be tested with scripted inputs and every decision carries its reason.
//
// Rules, in the order they are checked:
//   1. a type not on the ladder is never changed;
//   2. nothing happens in the first minutes after a start (boot load is not demand);
//   3. nothing happens during the cooldown after any change, nor until the window holds only
//      the current type's load (the window's figures from before a change are another type's:
//      the load that made it scale up would make it scale up again);
//   4. nothing happens without enough CPU data (coverage of the window);
//   5. up one step when CPU average and max are both over the thresholds (seed: 70 % / 85 %
//      over 2 h), unless already at the top ("at top of ladder");
//   6. down one step only when every metric is low — CPU, memory (missing memory means no
//      scale-down), disk when present — and the load projected onto the smaller type stays
//      under the up-thresholds, unless already at the bottom;
//   7. otherwise, steady.

import { invalidInput } from '../core/errors.js';

export interface LadderStep {
  machineType: string;
  /** Effective vCPUs (shared-core types count their sustained share: e2-small = 0.5). */
  vcpus: number;
  memoryGb: number;
}

/** The e2 family from a quarter core to 16 cores; memory per the published type table. */
export const DEFAULT_LADDER: LadderStep[] = [
  { machineType: 'e2-micro', vcpus: 0.25, memoryGb: 1 },
  { machineType: 'e2-small', vcpus: 0.5, memoryGb: 2 },
  { machineType: 'e2-medium', vcpus: 1, memoryGb: 4 },
  { machineType: 'e2-standard-2', vcpus: 2, memoryGb: 8 },
  { machineType: 'e2-standard-4', vcpus: 4, memoryGb: 16 },
  { machineType: 'e2-standard-8', vcpus: 8, memoryGb: 32 },
  { machineType: 'e2-standard-16', vcpus: 16, memoryGb: 64 },
];

export interface AutoscalePolicy {
  /** The window the metrics summarise (seed: 2 h). */
  windowMinutes: number;
  /** Scale up when CPU average is over this… */
  upAveragePercent: number;
  /** …and CPU max is over this. */
  upMaxPercent: number;
  /** Scale down only when every metric's average is under this… */
  downAveragePercent: number;
  /** …and its max under this. */
  downMaxPercent: number;
  /** Share of the window's one-minute samples needed before acting, 0–1. */
  minCoverage: number;
  cooldownMinutes: number;
  /** Minutes after a VM start whose metrics are not acted on. */
  warmupMinutes: number;
}

export const DEFAULT_POLICY: AutoscalePolicy = {
  windowMinutes: 120,
  upAveragePercent: 70,
  upMaxPercent: 85,
  downAveragePercent: 20,
  downMaxPercent: 40,
  minCoverage: 0.8,
  cooldownMinutes: 60,
  warmupMinutes: 15,
};

/**
 * Thresholds that contradict each other are refused: with a scale-down threshold at or over
 * the matching scale-up one, one load could call for both, and the VM would step up and down.
 */
export function checkRules(overrides: Partial<AutoscalePolicy>): void {
  const p = { ...DEFAULT_POLICY, ...overrides };
  const problems: string[] = [];
  if (p.downAveragePercent >= p.upAveragePercent) problems.push(`downAveragePercent ${p.downAveragePercent} must be under upAveragePercent ${p.upAveragePercent}`);
  if (p.downMaxPercent >= p.upMaxPercent) problems.push(`downMaxPercent ${p.downMaxPercent} must be under upMaxPercent ${p.upMaxPercent}`);
  if (problems.length > 0) {
    throw invalidInput(`rules: ${problems.join('; ')} (defaults fill what the policy does not set: ${JSON.stringify(DEFAULT_POLICY)})`, { field: 'rules' });
  }
}

export interface MetricWindow {
  average: number;
  max: number;
  /** 0–1 share of the window with data. */
  coverage: number;
}

export interface MetricsSummary {
  cpu: MetricWindow | null;
  memory: MetricWindow | null;
  disk: MetricWindow | null;
}

export interface AutoscaleInput {
  machineType: string;
  ladder?: LadderStep[];
  policy?: Partial<AutoscalePolicy>;
  metrics: MetricsSummary;
  lastChangeAt?: Date;
  startedAt?: Date;
  now: Date;
}

export type AutoscaleRule =
  | 'not_on_ladder'
  | 'warmup'
  | 'cooldown'
  | 'insufficient_data'
  | 'scale_up'
  | 'top_of_ladder'
  | 'scale_down'
  | 'bottom_of_ladder'
  | 'memory_unknown'
  | 'projected_too_high'
  | 'steady';

export interface AutoscaleDecision {
  action: 'up' | 'down' | 'none';
  from: string;
  /** The type to move to; the current type when action is none. */
  target: string;
  rule: AutoscaleRule;
  reason: string;
}

export function decideScaling(input: AutoscaleInput): AutoscaleDecision {
  const policy = { ...DEFAULT_POLICY, ...input.policy };
  const ladder = input.ladder ?? DEFAULT_LADDER;
  const from = input.machineType;
  const none = (rule: AutoscaleRule, reason: string): AutoscaleDecision => ({ action: 'none', from, target: from, rule, reason });

  const index = ladder.findIndex((s) => s.machineType === from);
  const step = ladder[index];
  if (!step) return none('not_on_ladder', `${from} is not on the ladder (${ladder.map((s) => s.machineType).join(', ')}); not changing it`);

  const sinceStart = minutesBetween(input.startedAt, input.now);
  if (sinceStart !== undefined && sinceStart < policy.warmupMinutes) {
    return none('warmup', `started ${fmt(sinceStart)} min ago; waiting ${policy.warmupMinutes} min after a start before acting`);
  }
  const sinceChange = minutesBetween(input.lastChangeAt, input.now);
  if (sinceChange !== undefined && sinceChange < policy.cooldownMinutes) {
    return none('cooldown', `machine type changed ${fmt(sinceChange)} min ago; cooldown is ${policy.cooldownMinutes} min`);
  }
  if (sinceChange !== undefined && sinceChange < policy.windowMinutes) {
    return none('cooldown', `machine type changed ${fmt(sinceChange)} min ago; waiting until the ${policy.windowMinutes}-min window holds only ${from}'s load`);
  }

  const { cpu, memory, disk } = input.metrics;
  if (!cpu || cpu.coverage < policy.minCoverage) {
    const have = cpu ? `${pct(cpu.coverage)} of the window` : 'no CPU data';
    // With no coverage asked for (minCoverage 0), what is missing is any data at all.
    const need = policy.minCoverage > 0 ? `need ${pct(policy.minCoverage)} before acting` : 'some is needed before acting';
    return none('insufficient_data', `${have} over the last ${policy.windowMinutes} min; ${need}`);
  }

  const cpuSays = `CPU avg ${fmt(cpu.average)}% / max ${fmt(cpu.max)}% over ${policy.windowMinutes} min`;
  if (cpu.average > policy.upAveragePercent && cpu.max > policy.upMaxPercent) {
    const bigger = ladder[index + 1];
    if (!bigger) return none('top_of_ladder', `${cpuSays} calls for more, but ${from} is at top of ladder`);
    return { action: 'up', from, target: bigger.machineType, rule: 'scale_up', reason: `${cpuSays} is over ${policy.upAveragePercent}% / ${policy.upMaxPercent}%: one step up to ${bigger.machineType}` };
  }

  const low = (m: MetricWindow) => m.average < policy.downAveragePercent && m.max < policy.downMaxPercent;
  if (!low(cpu)) return none('steady', `${cpuSays}: within bounds`);
  if (!memory || memory.coverage < policy.minCoverage) {
    return none('memory_unknown', `${cpuSays} is low, but memory is ${memory ? `only ${pct(memory.coverage)} covered` : 'not reported (no Ops Agent)'}; not scaling down without it`);
  }
  const memSays = `memory avg ${fmt(memory.average)}% / max ${fmt(memory.max)}%`;
  if (!low(memory)) return none('steady', `${cpuSays} is low but ${memSays} is not`);
  if (disk && !low(disk)) return none('steady', `${cpuSays} and ${memSays} are low but disk avg ${fmt(disk.average)}% / max ${fmt(disk.max)}% is not`);

  const smaller = ladder[index - 1];
  if (!smaller) return none('bottom_of_ladder', `every metric is low, but ${from} is at the bottom of the ladder`);
  const cpuRatio = step.vcpus / smaller.vcpus;
  const memRatio = step.memoryGb / smaller.memoryGb;
  const projected = {
    cpuAverage: cpu.average * cpuRatio,
    cpuMax: cpu.max * cpuRatio,
    memAverage: memory.average * memRatio,
    memMax: memory.max * memRatio,
  };
  const projSays = `on ${smaller.machineType} that would be CPU ${fmt(projected.cpuAverage)}% / ${fmt(projected.cpuMax)}%, memory ${fmt(projected.memAverage)}% / ${fmt(projected.memMax)}%`;
  const fits = (avg: number, max: number) => avg < policy.upAveragePercent && max < policy.upMaxPercent;
  // Memory has no "up" rule; a projected memory max at or over the CPU up-max (85 %) would
  // leave too little headroom all the same, so the same bounds apply.
  if (!fits(projected.cpuAverage, projected.cpuMax) || !fits(projected.memAverage, projected.memMax)) {
    return none('projected_too_high', `every metric is low, but ${projSays}, at or over ${policy.upAveragePercent}% / ${policy.upMaxPercent}%`);
  }
  return { action: 'down', from, target: smaller.machineType, rule: 'scale_down', reason: `${cpuSays} and ${memSays}${disk ? ', disk too,' : ''} are low; ${projSays}: one step down` };
}

function minutesBetween(then: Date | undefined, now: Date): number | undefined {
  return then === undefined ? undefined : (now.getTime() - then.getTime()) / 60_000;
}

const fmt = (n: number) => (Math.round(n * 10) / 10).toString();
const pct = (share: number) => `${Math.round(share * 100)}%`;
