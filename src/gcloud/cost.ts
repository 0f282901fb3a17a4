// Monthly cost of a VM from a price table: machine type × region at the hourly on-demand
// rate, its disk per GB-month, and its external IPv4 address by the hour while it runs. Pure; the table is data (seeded from prices.ts, later a
// versioned database table), so a price change is a new table version, not a code change.
import { notFound } from '../core/errors.js';

/** Google bills a month as 730 hours (365 × 24 / 12). */
export const HOURS_PER_MONTH = 730;

export interface MachinePrice {
  region: string;
  machineType: string;
  /** On-demand USD per hour. */
  hourlyUsd: number;
}

export interface DiskPrice {
  region: string;
  /** pd-standard, pd-balanced, pd-ssd. */
  diskType: string;
  /** USD per GB-month. */
  gbMonthUsd: number;
}

export interface PriceTable {
  /** Which published list the figures come from, e.g. 2025-01-us-list. */
  version: string;
  currency: 'USD';
  machines: MachinePrice[];
  disks: DiskPrice[];
  /** USD per hour for an external IPv4 address in use by a running VM. */
  externalIpv4HourlyUsd: number;
}

export interface CostRequest {
  machineType: string;
  /** A region (us-central1) or a zone (us-central1-a). */
  location: string;
  diskGb: number;
  diskType?: string;
  /** Hours the VM runs in a month; default all of them. A stopped VM still pays for its disk. */
  runningHours?: number;
  /**
   * It has an external access config. An ephemeral address is released while the VM is stopped,
   * so it is billed for the running hours; a reserved static address would cost more while
   * unused, which the instance alone does not tell.
   */
  externalIpv4?: boolean;
}

export interface CostEstimate {
  priceVersion: string;
  currency: 'USD';
  region: string;
  machineType: string;
  hourlyUsd: number;
  runningHours: number;
  computeUsd: number;
  diskType: string;
  diskGb: number;
  diskUsd: number;
  externalIpUsd: number;
  totalUsd: number;
}

/** us-central1-a → us-central1; a region stays as it is. */
export function regionOf(location: string): string {
  return /^[a-z]+-[a-z]+\d+-[a-z]$/.test(location) ? location.slice(0, -2) : location;
}

export function estimateMonthlyCost(table: PriceTable, req: CostRequest): CostEstimate {
  const region = regionOf(req.location);
  const diskType = req.diskType ?? 'pd-balanced';
  const machine = table.machines.find((m) => m.region === region && m.machineType === req.machineType);
  if (!machine) {
    throw notFound(`no price for ${req.machineType} in ${region} in price table ${table.version} (the dated table this version ships)`, { machineType: req.machineType, region });
  }
  const disk = table.disks.find((d) => d.region === region && d.diskType === diskType);
  if (!disk) throw notFound(`no price for ${diskType} disks in ${region} in price table ${table.version}`, { diskType, region });
  const runningHours = Math.min(HOURS_PER_MONTH, Math.max(0, req.runningHours ?? HOURS_PER_MONTH));
  const computeUsd = cents(machine.hourlyUsd * runningHours);
  const diskUsd = cents(disk.gbMonthUsd * req.diskGb);
  const externalIpUsd = req.externalIpv4 ? cents(table.externalIpv4HourlyUsd * runningHours) : 0;
  return {
    priceVersion: table.version,
    currency: table.currency,
    region,
    machineType: req.machineType,
    hourlyUsd: machine.hourlyUsd,
    runningHours,
    computeUsd,
    diskType,
    diskGb: req.diskGb,
    diskUsd,
    externalIpUsd,
    totalUsd: cents(computeUsd + diskUsd + externalIpUsd),
  };
}

const cents = (usd: number) => Math.round(usd * 100) / 100;
