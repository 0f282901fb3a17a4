// The price table in the database: the newest dated version is the one estimates use. Loaded
// once per version (a new version is a migration or an INSERT, seen within a minute).
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { notFound, SupervisorError } from '../core/errors.js';
import { estimateMonthlyCost, HOURS_PER_MONTH, type CostEstimate, type PriceTable } from './cost.js';
import type { VmInstance } from './instance.js';

const RELOAD_MS = 60_000;

const isSuspended = (status: string) => status === 'SUSPENDED' || status === 'SUSPENDING';
/** Google charges vCPUs and memory from PROVISIONING until the VM stops; STOPPING ends in TERMINATED. */
export const billedAsRunning = (status: string) => status !== 'TERMINATED' && status !== 'STOPPING' && !isSuspended(status);

/**
 * Why a VM's type has no price, as a plan and as a change made read it: a plan may still pick a
 * type the table lists; a VM created or resized onto the type has no figure, and is left out of
 * gcloud_cost's total (named there under leftOut).
 */
export const noPriceNote = (reason: string, vm: string, planned: boolean) =>
  planned ? `${reason}; pick a type the table lists for a figure` : `${reason}, so ${vm} has no cost figure: gcloud_cost names it under leftOut, outside its total`;

export class PriceBook {
  private table?: { value: PriceTable & { asOf: string }; at: number };

  constructor(private readonly db: Db, private readonly clock: Clock) {}

  async current(): Promise<PriceTable & { asOf: string }> {
    const now = this.clock.now().getTime();
    if (this.table && now - this.table.at < RELOAD_MS) return this.table.value;
    const { rows } = await this.db.query<{ version: string; as_of: string; ipv4: number }>("SELECT version, to_char(as_of, 'YYYY-MM-DD') AS as_of, external_ipv4_hourly_usd::float8 AS ipv4 FROM gcloud_price_versions ORDER BY as_of DESC, version DESC LIMIT 1");
    const head = rows[0];
    if (!head) throw notFound('the price table is empty; add a version to gcloud_price_versions');
    if (this.table?.value.version !== head.version) {
      const machines = await this.db.query<{ region: string; machine_type: string; hourly_usd: number }>('SELECT region, machine_type, hourly_usd::float8 AS hourly_usd FROM gcloud_machine_prices WHERE version = $1', [head.version]);
      const disks = await this.db.query<{ region: string; disk_type: string; gb_month_usd: number }>('SELECT region, disk_type, gb_month_usd::float8 AS gb_month_usd FROM gcloud_disk_prices WHERE version = $1', [head.version]);
      const value = {
        version: head.version,
        asOf: head.as_of,
        currency: 'USD' as const,
        machines: machines.rows.map((r) => ({ region: r.region, machineType: r.machine_type, hourlyUsd: r.hourly_usd })),
        disks: disks.rows.map((r) => ({ region: r.region, diskType: r.disk_type, gbMonthUsd: r.gb_month_usd })),
        externalIpv4HourlyUsd: head.ipv4,
      };
      this.table = { value, at: now };
    } else {
      this.table.at = now;
    }
    return this.table.value;
  }

  /**
   * A VM's monthly cost on `machineType` (default its own): all hours when it runs or is on its
   * way up, none when it is stopped, stopping or suspended (its disk is paid either way). The boot
   * disk is taken as pd-balanced, the default of gcloud_create_vm; an external access config is
   * billed as an address in use while it runs. Null with the reason when the
   * table has no price for it.
   */
  async vmCost(vm: VmInstance, machineType = vm.machineType, running = billedAsRunning(vm.status)): Promise<{ cost: CostEstimate | null; note?: string }> {
    try {
      const cost = estimateMonthlyCost(await this.current(), { machineType, location: vm.zone, diskGb: vm.bootDiskGb ?? 10, runningHours: running ? HOURS_PER_MONTH : 0, externalIpv4: vm.externalAccess === true });
      // Google bills a suspended VM's preserved memory too; the table has no price for that.
      return isSuspended(vm.status) ? { cost, note: `${vm.status}: its preserved memory is billed as well, not counted here` } : { cost };
    } catch (err) {
      if (err instanceof SupervisorError && err.code === 'not_found') return { cost: null, note: err.message };
      throw err;
    }
  }
}
