// Seed price list for cost estimates, to be loaded into the versioned price table.
//
// Source: Google Cloud's published on-demand list prices ("VM instance pricing" and "Disk and
// image pricing" pages, cloud.google.com/compute/vm-instance-pricing and
// cloud.google.com/compute/disks-image-pricing, and "All networking pricing" for external IP
// addresses), as listed in January 2025, USD, without
// sustained-use or committed-use discounts, rounded to 5 decimals. These are approximate
// figures for estimates, not billing: check the pages before relying on a number, and add a
// new table version when Google changes them.
import type { DiskPrice, MachinePrice, PriceTable } from './cost.js';

const AS_OF = '2025-01';

/** us-central1 hourly rates; other regions apply their published uplift to these. */
const BASE: Record<string, number> = {
  'e2-micro': 0.00838,
  'e2-small': 0.01675,
  'e2-medium': 0.03351,
  'e2-standard-2': 0.06701,
  'e2-standard-4': 0.13402,
  'e2-standard-8': 0.26805,
  'e2-standard-16': 0.53609,
  'n1-standard-1': 0.04749,
  'n1-standard-2': 0.09498,
  'n1-standard-4': 0.18997,
  'n1-standard-8': 0.37994,
  'n2-standard-2': 0.09712,
  'n2-standard-4': 0.19424,
  'n2-standard-8': 0.38847,
};

/** Region uplift over us-central1 as the published tables show it (approximate). */
const REGIONS: Record<string, number> = {
  'us-central1': 1,
  'us-east1': 1,
  'us-west1': 1,
  'europe-west1': 1.1,
  'europe-west4': 1.1,
  'asia-northeast1': 1.28,
};

/** Persistent disk per GB-month: the same in the US and Europe regions, higher in Tokyo. */
const DISKS: Record<string, Record<string, number>> = {
  'us-central1': { 'pd-standard': 0.04, 'pd-balanced': 0.1, 'pd-ssd': 0.17 },
  'us-east1': { 'pd-standard': 0.04, 'pd-balanced': 0.1, 'pd-ssd': 0.17 },
  'us-west1': { 'pd-standard': 0.04, 'pd-balanced': 0.1, 'pd-ssd': 0.17 },
  'europe-west1': { 'pd-standard': 0.04, 'pd-balanced': 0.1, 'pd-ssd': 0.17 },
  'europe-west4': { 'pd-standard': 0.044, 'pd-balanced': 0.11, 'pd-ssd': 0.187 },
  'asia-northeast1': { 'pd-standard': 0.052, 'pd-balanced': 0.13, 'pd-ssd': 0.221 },
};

/** An external IPv4 address in use by a standard (not Spot) VM, per hour, in every region. */
const EXTERNAL_IPV4_HOURLY = 0.005;

const round5 = (n: number) => Math.round(n * 100_000) / 100_000;

export const SEED_PRICE_TABLE: PriceTable = {
  version: `${AS_OF}-gcp-on-demand-list`,
  currency: 'USD',
  machines: Object.entries(REGIONS).flatMap(([region, uplift]): MachinePrice[] =>
    Object.entries(BASE).map(([machineType, hourly]) => ({ region, machineType, hourlyUsd: round5(hourly * uplift) })),
  ),
  externalIpv4HourlyUsd: EXTERNAL_IPV4_HOURLY,
  disks: Object.entries(DISKS).flatMap(([region, byType]): DiskPrice[] => Object.entries(byType).map(([diskType, gbMonthUsd]) => ({ region, diskType, gbMonthUsd }))),
};
