// Our view of a Compute Engine instance, and the insert body for a new one. The API returns
// URLs where we want names (machineType, zone), int64 as strings, and many fields we never
// read; callers get the short, typed form.
import { invalidInput } from '../core/errors.js';
import type { compute_v1 } from './compute-api.js';

export interface InstanceRef {
  project: string;
  zone: string;
  name: string;
}

export interface VmInstance extends InstanceRef {
  id: string;
  /** PROVISIONING, STAGING, RUNNING, STOPPING, SUSPENDING, SUSPENDED, REPAIRING, TERMINATED. */
  status: string;
  /** Short name, e.g. e2-medium. */
  machineType: string;
  labels: Record<string, string>;
  bootDiskGb?: number;
  internalIp?: string;
  externalIp?: string;
  /** It has an external access config: a public IPv4 address while it runs (`externalIp` is absent while it is stopped). */
  externalAccess?: boolean;
  createdAt?: string;
  lastStartedAt?: string;
  lastStoppedAt?: string;
}

export interface InstanceSpec extends InstanceRef {
  machineType: string;
  /** Image or image family, e.g. projects/debian-cloud/global/images/family/debian-12. */
  image: string;
  diskSizeGb: number;
  /** pd-balanced (default), pd-standard or pd-ssd. */
  diskType?: 'pd-balanced' | 'pd-standard' | 'pd-ssd';
  labels?: Record<string, string>;
  /** Runs as root at every boot (metadata key startup-script). */
  startupScript?: string;
  /** An ephemeral public IPv4 address. Default true. */
  externalIp?: boolean;
}

const lastSegment = (url: string | null | undefined) => (url ? (url.split('/').pop() ?? url) : '');

export function toVmInstance(project: string, raw: compute_v1.Schema$Instance): VmInstance {
  const nic = raw.networkInterfaces?.[0];
  const boot = raw.disks?.find((d) => d.boot) ?? raw.disks?.[0];
  const vm: VmInstance = {
    project,
    zone: lastSegment(raw.zone),
    name: raw.name ?? '',
    id: raw.id ?? '',
    status: raw.status ?? 'UNKNOWN',
    machineType: lastSegment(raw.machineType),
    labels: { ...(raw.labels ?? {}) },
  };
  const optional = {
    bootDiskGb: boot?.diskSizeGb ? Number(boot.diskSizeGb) : undefined,
    internalIp: nic?.networkIP ?? undefined,
    externalIp: nic?.accessConfigs?.[0]?.natIP ?? undefined,
    externalAccess: (nic?.accessConfigs?.length ?? 0) > 0 || undefined,
    createdAt: raw.creationTimestamp ?? undefined,
    lastStartedAt: raw.lastStartTimestamp ?? undefined,
    lastStoppedAt: raw.lastStopTimestamp ?? undefined,
  };
  for (const [key, value] of Object.entries(optional)) if (value !== undefined) Object.assign(vm, { [key]: value });
  return vm;
}

const MACHINE_TYPE = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$/;

export function machineTypePath(zone: string, machineType: string): string {
  if (!MACHINE_TYPE.test(machineType)) throw invalidInput(`machine type "${machineType}" is not a machine type name such as e2-standard-2`);
  return `zones/${zone}/machineTypes/${machineType}`;
}

export function insertBody(spec: InstanceSpec): compute_v1.Schema$Instance {
  if (!Number.isInteger(spec.diskSizeGb) || spec.diskSizeGb < 10) {
    throw invalidInput(`boot disk of ${spec.name} must be a whole number of GB, at least 10 (got ${spec.diskSizeGb})`);
  }
  const body: compute_v1.Schema$Instance = {
    name: spec.name,
    machineType: machineTypePath(spec.zone, spec.machineType),
    disks: [
      {
        boot: true,
        autoDelete: true,
        initializeParams: {
          sourceImage: spec.image,
          diskSizeGb: String(spec.diskSizeGb),
          diskType: `zones/${spec.zone}/diskTypes/${spec.diskType ?? 'pd-balanced'}`,
        },
      },
    ],
    networkInterfaces: [
      {
        network: 'global/networks/default',
        ...(spec.externalIp === false ? {} : { accessConfigs: [{ name: 'External NAT', type: 'ONE_TO_ONE_NAT' }] }),
      },
    ],
  };
  if (spec.labels && Object.keys(spec.labels).length) body.labels = spec.labels;
  if (spec.startupScript !== undefined) body.metadata = { items: [{ key: 'startup-script', value: spec.startupScript }] };
  return body;
}
