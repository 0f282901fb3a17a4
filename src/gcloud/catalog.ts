// What the supervisor knows about Google Cloud without asking it: the regions (so a mistyped
// zone is refused before any call) and the machine types an auto-scaling ladder may use, with
// the capacity the scaler projects load onto.
import type { LadderStep } from './autoscale.js';
import { DEFAULT_LADDER } from './autoscale.js';

/** Compute Engine regions as published (cloud.google.com/compute/docs/regions-zones), 2025. */
export const REGIONS = new Set([
  'africa-south1',
  'asia-east1', 'asia-east2', 'asia-northeast1', 'asia-northeast2', 'asia-northeast3', 'asia-south1', 'asia-south2', 'asia-southeast1', 'asia-southeast2',
  'australia-southeast1', 'australia-southeast2',
  'europe-central2', 'europe-north1', 'europe-north2', 'europe-southwest1', 'europe-west1', 'europe-west2', 'europe-west3', 'europe-west4',
  'europe-west6', 'europe-west8', 'europe-west9', 'europe-west10', 'europe-west12',
  'me-central1', 'me-central2', 'me-west1',
  'northamerica-northeast1', 'northamerica-northeast2', 'northamerica-south1',
  'southamerica-east1', 'southamerica-west1',
  'us-central1', 'us-east1', 'us-east4', 'us-east5', 'us-south1', 'us-west1', 'us-west2', 'us-west3', 'us-west4',
]);

/** A Compute Engine zone's shape: <region>-<letter>, the region <area>-<direction><n>. */
export const ZONE_SHAPE = /^[a-z]+-[a-z]+\d+-[a-z]$/;

/** Why `zone` is not a Compute Engine zone, or undefined when it is one. */
export function zoneProblem(zone: string): string | undefined {
  if (!ZONE_SHAPE.test(zone)) return 'must be a zone such as us-central1-a';
  const region = zone.slice(0, -2);
  if (!REGIONS.has(region)) return `unknown region ${region}; zones are <region>-<letter>, e.g. us-central1-a`;
  return undefined;
}

const sizes = (family: string, perCpuGb: number, cpus: number[]): LadderStep[] => cpus.map((n) => ({ machineType: `${family}-${n}`, vcpus: n, memoryGb: n * perCpuGb }));

/** Machine types a ladder may name: effective vCPUs (shared-core e2 counts its share) and memory. */
export const MACHINE_TYPES = new Map<string, LadderStep>(
  [
    ...DEFAULT_LADDER,
    ...sizes('e2-highmem', 8, [2, 4, 8, 16]),
    ...sizes('e2-highcpu', 1, [2, 4, 8, 16, 32]),
    ...sizes('n1-standard', 3.75, [1, 2, 4, 8, 16, 32]),
    ...sizes('n2-standard', 4, [2, 4, 8, 16, 32]),
    ...sizes('n2d-standard', 4, [2, 4, 8, 16, 32]),
  ].map((s) => [s.machineType, s]),
);

/** The seed's ladder: e2-small → e2-medium → e2-standard-2 → e2-standard-4. */
export const SEED_LADDER = ['e2-small', 'e2-medium', 'e2-standard-2', 'e2-standard-4'];
