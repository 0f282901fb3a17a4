// The zones and machine types the fake Compute Engine knows; anything else is refused the
// way the real API refuses an unknown zone or type.

export const ZONES = [
  'us-central1-a',
  'us-central1-b',
  'us-central1-c',
  'us-central1-f',
  'us-east1-b',
  'us-east1-c',
  'europe-west1-b',
  'europe-west1-d',
  'europe-west4-a',
  'asia-northeast1-a',
] as const;

/** vCPUs and memory (MB) as the machineTypes resource reports them. */
export const MACHINE_SPECS: Record<string, { guestCpus: number; memoryMb: number; isSharedCpu?: boolean }> = {
  'e2-micro': { guestCpus: 2, memoryMb: 1024, isSharedCpu: true },
  'e2-small': { guestCpus: 2, memoryMb: 2048, isSharedCpu: true },
  'e2-medium': { guestCpus: 2, memoryMb: 4096, isSharedCpu: true },
  'e2-standard-2': { guestCpus: 2, memoryMb: 8192 },
  'e2-standard-4': { guestCpus: 4, memoryMb: 16384 },
  'e2-standard-8': { guestCpus: 8, memoryMb: 32768 },
  'e2-standard-16': { guestCpus: 16, memoryMb: 65536 },
  'e2-highmem-2': { guestCpus: 2, memoryMb: 16384 },
  'e2-highcpu-2': { guestCpus: 2, memoryMb: 2048 },
  'n1-standard-1': { guestCpus: 1, memoryMb: 3840 },
  'n1-standard-2': { guestCpus: 2, memoryMb: 7680 },
  'n1-standard-4': { guestCpus: 4, memoryMb: 15360 },
  'n1-standard-8': { guestCpus: 8, memoryMb: 30720 },
  'n1-standard-16': { guestCpus: 16, memoryMb: 61440 },
  'n2-standard-2': { guestCpus: 2, memoryMb: 8192 },
  'n2-standard-4': { guestCpus: 4, memoryMb: 16384 },
  'n2-standard-8': { guestCpus: 8, memoryMb: 32768 },
  'n2-standard-16': { guestCpus: 16, memoryMb: 65536 },
};

export const MACHINE_TYPES = new Set(Object.keys(MACHINE_SPECS));

export const isZone = (zone: string) => (ZONES as readonly string[]).includes(zone);

/** Links in answers use the public host, as the real API's selfLinks do. */
export const LINK_ROOT = 'https://www.googleapis.com/compute/v1';

export const zoneLink = (project: string, zone: string) => `${LINK_ROOT}/projects/${project}/zones/${zone}`;
export const instancePath = (project: string, zone: string, name: string) => `projects/${project}/zones/${zone}/instances/${name}`;
