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

const FAMILIES: Record<string, string[]> = {
  e2: ['e2-micro', 'e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4', 'e2-standard-8', 'e2-standard-16', 'e2-highmem-2', 'e2-highcpu-2'],
  n1: ['n1-standard-1', 'n1-standard-2', 'n1-standard-4', 'n1-standard-8', 'n1-standard-16'],
  n2: ['n2-standard-2', 'n2-standard-4', 'n2-standard-8', 'n2-standard-16'],
};

export const MACHINE_TYPES = new Set(Object.values(FAMILIES).flat());

export const isZone = (zone: string) => (ZONES as readonly string[]).includes(zone);

/** Links in answers use the public host, as the real API's selfLinks do. */
export const LINK_ROOT = 'https://www.googleapis.com/compute/v1';

export const zoneLink = (project: string, zone: string) => `${LINK_ROOT}/projects/${project}/zones/${zone}`;
export const instancePath = (project: string, zone: string, name: string) => `projects/${project}/zones/${zone}/instances/${name}`;
