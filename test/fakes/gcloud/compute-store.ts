// Instances by project, zone and name, and their wire form (compute#instance).
import { createHash, randomBytes } from 'node:crypto';
import { LINK_ROOT, zoneLink } from './compute-catalog.js';
import type { InstanceStatus } from './types.js';

export interface FakeInstance {
  id: string;
  project: string;
  zone: string;
  name: string;
  machineType: string;
  status: InstanceStatus;
  labels: Record<string, string>;
  metadata: Array<{ key: string; value: string }>;
  disk: { sizeGb: number; type: string; image: string };
  networkIP: string;
  /** Ephemeral public address, when the instance was made with an access config. */
  natIP?: string;
  creationTimestamp: string;
  lastStartTimestamp?: string;
  lastStopTimestamp?: string;
}

export class InstanceStore {
  private readonly items = new Map<string, FakeInstance>();
  private nextIp = 2;

  key = (project: string, zone: string, name: string) => `${project}/${zone}/${name}`;

  get(project: string, zone: string, name: string): FakeInstance | undefined {
    return this.items.get(this.key(project, zone, name));
  }

  put(instance: FakeInstance): void {
    this.items.set(this.key(instance.project, instance.zone, instance.name), instance);
  }

  remove(instance: FakeInstance): void {
    this.items.delete(this.key(instance.project, instance.zone, instance.name));
  }

  /** One project's instances (one zone, or all), by zone then name. */
  list(project: string, zone?: string): FakeInstance[] {
    return [...this.items.values()]
      .filter((i) => i.project === project && (zone === undefined || i.zone === zone))
      .sort((a, b) => a.zone.localeCompare(b.zone) || a.name.localeCompare(b.name));
  }

  /** The first instance of that name in any zone of the project (monitoring looks VMs up by name). */
  byName(project: string, name: string): FakeInstance | undefined {
    return this.list(project).find((i) => i.name === name);
  }

  create(fields: Omit<FakeInstance, 'id' | 'networkIP'>): FakeInstance {
    const instance: FakeInstance = { ...fields, id: numericId(), networkIP: `10.128.0.${this.nextIp++}` };
    this.put(instance);
    return instance;
  }
}

/** Compute resource ids are unsigned 64-bit numbers sent as decimal strings. */
export function numericId(): string {
  return BigInt(`0x${randomBytes(8).toString('hex')}`).toString();
}

const fingerprint = (value: unknown) => createHash('sha256').update(JSON.stringify(value)).digest().subarray(0, 8).toString('base64');

export function instanceResource(i: FakeInstance): Record<string, unknown> {
  const zone = zoneLink(i.project, i.zone);
  const resource: Record<string, unknown> = {
    kind: 'compute#instance',
    id: i.id,
    creationTimestamp: i.creationTimestamp,
    name: i.name,
    tags: { fingerprint: fingerprint([]) },
    machineType: `${zone}/machineTypes/${i.machineType}`,
    status: i.status,
    zone,
    canIpForward: false,
    networkInterfaces: [
      {
        kind: 'compute#networkInterface',
        network: `${LINK_ROOT}/projects/${i.project}/global/networks/default`,
        subnetwork: `${LINK_ROOT}/projects/${i.project}/regions/${i.zone.replace(/-[a-z]$/, '')}/subnetworks/default`,
        networkIP: i.networkIP,
        name: 'nic0',
        fingerprint: fingerprint(i.networkIP),
        stackType: 'IPV4_ONLY',
        ...(i.natIP ? { accessConfigs: [{ kind: 'compute#accessConfig', type: 'ONE_TO_ONE_NAT', name: 'External NAT', natIP: i.status === 'RUNNING' ? i.natIP : undefined, networkTier: 'PREMIUM' }] } : {}),
      },
    ],
    disks: [
      {
        kind: 'compute#attachedDisk',
        type: 'PERSISTENT',
        mode: 'READ_WRITE',
        source: `${zone}/disks/${i.name}`,
        deviceName: 'persistent-disk-0',
        index: 0,
        boot: true,
        autoDelete: true,
        interface: 'SCSI',
        diskSizeGb: String(i.disk.sizeGb),
        architecture: 'X86_64',
      },
    ],
    metadata: { kind: 'compute#metadata', fingerprint: fingerprint(i.metadata), ...(i.metadata.length ? { items: i.metadata } : {}) },
    selfLink: `${zone}/instances/${i.name}`,
    scheduling: { onHostMaintenance: 'MIGRATE', automaticRestart: true, preemptible: false, provisioningModel: 'STANDARD' },
    cpuPlatform: i.status === 'RUNNING' ? 'Intel Broadwell' : 'Unknown CPU Platform',
    labelFingerprint: fingerprint(i.labels),
    startRestricted: false,
    deletionProtection: false,
    fingerprint: fingerprint(i),
    lastStartTimestamp: i.lastStartTimestamp,
    lastStopTimestamp: i.lastStopTimestamp,
  };
  if (Object.keys(i.labels).length) resource.labels = i.labels;
  return JSON.parse(JSON.stringify(resource)) as Record<string, unknown>;
}

/** RFC 3339 with the Pacific offset the real API uses in timestamps. */
export function googleTimestamp(ms: number): string {
  const local = new Date(ms - 8 * 3600_000).toISOString().replace('Z', '');
  return `${local}-08:00`;
}
