// Health of one VM or many from Cloud Monitoring: CPU, memory and disk over the last N
// minutes. For many VMs of one project the three metrics are read once each for the whole
// project (three requests, however many VMs) and split by instance id; one VM's queries name
// its instance. Each minute's values are kept for storing as samples.
import { CPU_METRIC, DISK_METRIC, MEMORY_METRIC, OPS_AGENT_INSTALL, summarize, type MonitoringClient, type TimeSeries, type VmHealth } from './monitoring.js';
import type { VmInstance } from './instance.js';

export type MetricName = 'cpu' | 'memory' | 'disk';

/** Monitoring's view of a VM's health, with the account and what Compute says of the VM. */
export interface VmHealthView extends VmHealth {
  account: string;
  zone: string;
  status: string;
  machineType: string;
}

export interface Sample {
  project: string;
  zone: string;
  instanceName: string;
  metric: MetricName;
  at: Date;
  value: number;
}

const METRICS: Array<{ metric: MetricName; type: string; scale: number; agent: boolean }> = [
  { metric: 'cpu', type: CPU_METRIC, scale: 100, agent: false },
  { metric: 'memory', type: MEMORY_METRIC, scale: 1, agent: true },
  { metric: 'disk', type: DISK_METRIC, scale: 1, agent: true },
];

const quote = (value: string) => `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`;

export interface HealthWindow {
  start: Date;
  end: Date;
  minutes: number;
}

/**
 * The last `minutes` up to the start of the current minute. Monitoring aligns its 60 s points
 * back from the interval's end, so an end on a whole minute puts every read's points on whole
 * minutes: a minute read twice is the same sample, stored once (an end at the request's
 * millisecond gave each read its own timestamps, and each read stored a copy).
 */
export function healthWindow(now: Date, minutes: number): HealthWindow {
  const end = new Date(Math.floor(now.getTime() / 60_000) * 60_000);
  return { start: new Date(end.getTime() - minutes * 60_000), end, minutes };
}

/** Health of `vms` (all in `project`), with the per-minute samples behind it. */
export async function readHealth(
  monitoring: MonitoringClient,
  account: string,
  project: string,
  vms: VmInstance[],
  window: HealthWindow,
): Promise<{ health: VmHealthView[]; samples: Sample[] }> {
  if (vms.length === 0) return { health: [], samples: [] };
  const only = vms.length === 1 ? vms[0] : undefined;
  const filterOf = (type: string, agent: boolean) =>
    [`metric.type = ${quote(type)}`, ...(only ? [`resource.labels.instance_id = ${quote(only.id)}`] : []), ...(agent ? ['metric.labels.state = "used"'] : [])].join(' AND ');
  const series = await Promise.all(METRICS.map((m) => monitoring.listTimeSeries(project, { filter: filterOf(m.type, m.agent), start: window.start, end: window.end })));
  const byVm = (index: number, id: string) => series[index]!.filter((s) => s.resource.labels.instance_id === id);

  const health: VmHealthView[] = [];
  const samples: Sample[] = [];
  for (const vm of vms) {
    const view: VmHealthView = {
      account,
      project,
      zone: vm.zone,
      instanceName: vm.name,
      ...(vm.id ? { instanceId: vm.id } : {}),
      status: vm.status,
      machineType: vm.machineType,
      minutes: window.minutes,
      from: window.start.toISOString(),
      to: window.end.toISOString(),
      cpu: null,
      memory: null,
      disk: null,
      opsAgent: { status: 'unknown', missing: [] },
    };
    METRICS.forEach((m, i) => {
      const own = byVm(i, vm.id);
      view[m.metric] = summarize(own, window.minutes, m.scale);
      for (const [at, value] of perMinute(own, m.scale)) samples.push({ project, zone: vm.zone, instanceName: vm.name, metric: m.metric, at: new Date(at), value });
    });
    view.opsAgent = agentStatus(view);
    health.push(view);
  }
  return { health, samples };
}

function agentStatus(view: VmHealthView): VmHealthView['opsAgent'] {
  const missing = (['memory', 'disk'] as const).filter((m) => view[m] === null);
  if (missing.length === 0) return { status: 'reporting', missing: [] };
  if (view.cpu === null) {
    return { status: 'unknown', missing, message: `no metrics at all for ${view.instanceName} in the last ${view.minutes} minutes (it is ${view.status}); memory and disk cannot be judged` };
  }
  return {
    status: 'missing',
    missing,
    message: `Ops Agent metrics missing for ${view.instanceName} (${missing.join(', ')}): memory and disk need the Ops Agent on the VM; install it with \`${OPS_AGENT_INSTALL}\``,
  };
}

/** The highest value per minute across a VM's series of one metric (two disks: the fuller one). */
function perMinute(series: TimeSeries[], scale: number): Map<number, number> {
  const out = new Map<number, number>();
  for (const s of series) for (const p of s.points) out.set(p.at.getTime(), Math.max(out.get(p.at.getTime()) ?? -Infinity, p.value * scale));
  return out;
}
