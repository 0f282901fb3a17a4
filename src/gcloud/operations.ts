import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { pageOutput } from '../core/page.js';
import { accountView } from './accounts.js';
import { evaluationView, policyView } from './policies.js';
import {
  accountName,
  accountView as accountSchema,
  confirm,
  costView,
  dryRun,
  evaluationView as evaluationSchema,
  healthView,
  instanceName,
  labels,
  ladder,
  machineType,
  operationView,
  policyView as policySchema,
  project,
  rules,
  supervisorProject,
  vmRef,
  vmView,
  zone,
} from './schemas.js';
import type { GcloudService } from './service.js';

// Every gcloud operation but the stored-data reads reaches Google.
const open = <T extends object>(a: T) => ({ ...a, openWorldHint: true });
const operation = operationsOf<GcloudService>('gcloud');
/** An auto-scaler evaluation in a table: what it decided and why (inputs with --wide or --json). */
const EVALUATION_COLUMNS = ['at', 'instanceName', 'machineType', 'action', 'target', 'outcome', 'reason'];
/**
 * limit and cursor as pageInput has them, shorter in the tool list: limit's bounds are a
 * refinement (the list shows number bounds; string lengths it leaves out anyway).
 */
const page = {
  limit: z.number().int().refine((n) => n >= 1 && n <= 200, 'from 1 to 200').default(50).describe('Page size'),
  cursor: z.string().max(1024, 'at most 1024 characters').optional().describe('From nextCursor'),
};
const DEBIAN_12 = 'projects/debian-cloud/global/images/family/debian-12';

/** A refusal naming `confirm`, before anything is read or changed. */
function confirmed(input: { confirm?: boolean }, what: string): void {
  if (!input.confirm) throw invalidInput(`confirm: ${what} cannot be undone; call again with confirm: true`, { field: 'confirm' });
}

const vmAnswer = z.object({ vm: vmView, operation: operationView });
const percent = z.number().nullable().describe('Percent; null without data');
const costChange = z.object({ before: z.number().nullable(), after: z.number().nullable(), changeUsd: z.number().nullable().describe('Monthly, USD'), priceVersion: z.string().nullable(), note: z.string().optional() });
const resizeReport = z.object({
  instance: z.string(),
  from: z.string(),
  to: z.string(),
  wasRunning: z.boolean(),
  changed: z.boolean(),
  steps: z.array(z.object({ step: z.string(), machineType: z.string(), ok: z.boolean(), operation: z.string().optional(), error: z.string().optional() })),
  finalStatus: z.string(),
  finalMachineType: z.string(),
});

/** Accounts a fleet-wide read could not read (a revoked key), beside the others' answers. */
const accountFailures = z.array(z.object({ account: z.string(), project: z.string(), error: z.string() })).describe('Accounts that could not be read');

export const gcloudOperations = [
  operation({
    name: 'gcloud_add_account',
    title: 'Add Google Cloud account',
    description: 'Store a service-account key as secret meta/gcloud/<account> once it works.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/gcloud/accounts' },
    cli: { command: ['gcloud', 'add-account'], args: ['account', 'key'], files: ['key'], stdin: 'key' },
    sensitive: ['key'],
    input: z.object({ account: accountName, key: z.string().max(20_000, 'at most 20000 characters').describe('Key JSON') }),
    output: accountSchema.extend({ created: z.boolean() }),
    handler: async ({ svc, principal }, input) => {
      const { row, created } = await svc.addAccount(principal, input);
      return { ...accountView(row), created };
    },
  }),
  operation({
    name: 'gcloud_list_accounts',
    title: 'List Google Cloud accounts',
    description: 'Accounts: project id, email, last success.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/gcloud/accounts' },
    cli: { command: ['gcloud', 'accounts'], columns: ['account', 'projectId', 'clientEmail', 'lastSuccessAt'], columnsUnless: { lastFailureAt: null, lastFailure: null } },
    input: z.object({}),
    output: z.object({ items: z.array(accountSchema) }),
    handler: async ({ svc }) => ({ items: (await svc.listAccounts()).map(accountView) }),
  }),
  operation({
    name: 'gcloud_remove_account',
    title: 'Remove Google Cloud account',
    description: 'Forget an account and key.',
    access: 'admin',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/gcloud/accounts' },
    cli: { command: ['gcloud', 'remove-account'], args: ['account'] },
    input: z.object({ account: accountName, confirm }),
    output: accountSchema.extend({ notes: z.array(z.string()) }),
    handler: async ({ svc, principal }, input) => {
      const { account, notes } = await svc.removeAccount(principal, input.account, () => confirmed(input, `removing account ${input.account}`));
      return { ...accountView(account), notes };
    },
  }),
  operation({
    name: 'gcloud_list_vms',
    title: 'List VMs',
    description: 'VMs of an account or all, in one zone or all.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/gcloud/vms' },
    cli: {
      command: ['vm', 'list'],
      args: ['project', 'zone'],
      columns: ['account', 'name', 'zone', 'status', 'machineType', 'internalIp', 'externalIp', 'attachedTo'],
      failWhen: { field: 'failed', nonEmpty: true },
    },
    input: z.object({ project: project.optional(), zone: zone.optional() }),
    output: z.object({ account: z.string().optional(), project: z.string().optional(), items: z.array(vmView.extend({ account: z.string() })), failed: accountFailures }),
    handler: ({ svc }, input) => svc.listVms(input.project, input.zone),
  }),
  operation({
    name: 'gcloud_get_vm',
    title: 'Get VM',
    description: 'One VM: status, type, IPs, project.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/gcloud/vm' },
    cli: { command: ['vm', 'get'], args: ['project', 'zone', 'instanceName'] },
    input: z.object(vmRef),
    output: vmView,
    handler: ({ svc }, input) => svc.getVm(input),
  }),
  operation({
    name: 'gcloud_start_vm',
    title: 'Start VM',
    description: 'Start a VM; waits until running.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/gcloud/vm/start' },
    cli: { command: ['vm', 'start'], args: ['project', 'zone', 'instanceName'] },
    input: z.object(vmRef),
    output: vmAnswer,
    handler: ({ svc, principal, progress }, input) => svc.startVm(principal.actor, input, progress),
  }),
  operation({
    name: 'gcloud_stop_vm',
    title: 'Stop VM',
    description: 'Stop a VM; waits until stopped.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/gcloud/vm/stop' },
    cli: { command: ['vm', 'stop'], args: ['project', 'zone', 'instanceName'] },
    input: z.object(vmRef),
    output: vmAnswer,
    handler: ({ svc, principal, progress }, input) => svc.stopVm(principal.actor, input, progress),
  }),
  operation({
    name: 'gcloud_create_vm',
    title: 'Create VM',
    description: 'Create a VM; answers its cost.',
    access: 'admin',
    annotations: open(WRITE),
    rest: { method: 'POST', path: '/gcloud/vms' },
    cli: { command: ['vm', 'create'], args: ['project', 'zone', 'instanceName', 'machineType'] },
    input: z.object({
      ...vmRef,
      machineType: machineType.describe('e.g. e2-medium'),
      image: z.string().max(300, 'at most 300 characters').optional().describe('Default Debian 12'),
      diskSizeGb: z.number().int().refine((n) => n >= 10 && n <= 65_536, 'from 10 to 65536').optional().describe('Boot disk GB (10)'),
      labels: labels.optional().describe('Labels'),
      startupScript: z.string().max(100_000, 'at most 100000 characters').optional().describe('Runs at boot'),
      externalIp: z.boolean().default(true).describe('Public IPv4'),
      dryRun,
    }),
    output: z.object({ dryRun: z.boolean(), vm: vmView.nullable(), operation: operationView.nullable(), cost: costView.nullable(), note: z.string().optional() }),
    handler: ({ svc, principal, progress }, input) =>
      svc.createVm(principal.actor, { ...input, image: input.image ?? DEBIAN_12, diskSizeGb: input.diskSizeGb ?? 10 }, input.dryRun ?? false, progress),
  }),
  operation({
    name: 'gcloud_delete_vm',
    title: 'Delete VM',
    description: 'Delete a VM and its disk.',
    access: 'admin',
    annotations: open(DESTRUCTIVE),
    rest: { method: 'DELETE', path: '/gcloud/vm' },
    cli: { command: ['vm', 'delete'], args: ['project', 'zone', 'instanceName'] },
    input: z.object({ ...vmRef, confirm }),
    output: z.object({ deleted: z.literal(true), operation: operationView, detachedFrom: z.string().nullable() }),
    handler: ({ svc, principal, progress }, input) => {
      confirmed(input, `deleting VM ${input.instanceName} and its disk`);
      return svc.deleteVm(principal.actor, input, progress);
    },
  }),
  operation({
    name: 'gcloud_resize_vm',
    title: 'Resize VM',
    description: 'Change machine type: stop, resize, start (old type back if it fails); cost change.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'POST', path: '/gcloud/vm/resize' },
    cli: { command: ['vm', 'resize'], args: ['project', 'zone', 'instanceName', 'newMachineType'], formats: { before: 'usd', after: 'usd', changeUsd: 'usd' } },
    input: z.object({ ...vmRef, newMachineType: machineType.describe('e.g. e2-standard-4'), dryRun }),
    output: z.object({
      dryRun: z.boolean(),
      from: z.string(),
      to: z.string(),
      status: z.string().describe('VM status after'),
      planned: z.array(z.string()).describe('Steps (taken, or that would be)'),
      report: resizeReport.nullable(),
      cost: costChange,
    }),
    handler: ({ svc, principal, progress }, input) => svc.resizeVm(principal.actor, input, input.dryRun ?? false, progress),
  }),
  operation({
    name: 'gcloud_vm_health',
    title: 'VM health',
    description: 'CPU/memory/disk avg, max, latest: one VM, an account, or all.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/gcloud/health' },
    cli: { command: ['vm', 'health'], args: ['project', 'zone', 'instanceName'], failWhen: { field: 'failed', nonEmpty: true } },
    input: z.object({
      project: project.optional(),
      zone: zone.optional(),
      instanceName: instanceName.optional(),
      minutes: z.number().int().refine((n) => n >= 1 && n <= 60_480, 'from 1 to 60480 (six weeks)').default(120).describe('Window'),
    }),
    output: healthView.partial().extend({ vms: z.array(healthView).optional().describe('Without instanceName'), stored: z.number().describe('Samples stored'), failed: accountFailures }),
    handler: async ({ svc }, input) => {
      const { vms, stored, failed } = await svc.health(input);
      // One VM: its health at the top, as the seed reads it (health.cpu.average).
      return input.instanceName && vms[0] ? { ...vms[0], stored, failed } : { vms, stored, failed };
    },
  }),
  operation({
    name: 'gcloud_health_history',
    title: 'VM health history',
    description: 'Stored CPU/memory/disk per bucket (avg, max); no Google call.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/gcloud/health/history' },
    cli: {
      command: ['vm', 'history'],
      args: ['project', 'zone', 'instanceName'],
      columns: ['at', 'cpuAverage', 'cpuMax', 'memoryAverage', 'memoryMax', 'diskAverage', 'diskMax'],
      units: { cpuAverage: '%', cpuMax: '%', memoryAverage: '%', memoryMax: '%', diskAverage: '%', diskMax: '%' },
    },
    input: z.object({
      ...vmRef,
      minutes: z.number().int().refine((n) => n >= 1 && n <= 60_480, 'from 1 to 60480 (six weeks)').default(1440).describe('Window'),
      points: z.number().int().refine((n) => n >= 1 && n <= 1440, 'from 1 to 1440').default(120).describe('Max buckets'),
    }),
    output: z.object({
      project: z.string(),
      zone: z.string(),
      instanceName: z.string(),
      from: z.string(),
      to: z.string(),
      stepMinutes: z.number().describe('Bucket width'),
      items: z.array(
        z.object({
          at: z.string().describe('Bucket start'),
          cpuAverage: percent,
          cpuMax: percent,
          memoryAverage: percent,
          memoryMax: percent,
          diskAverage: percent,
          diskMax: percent,
          samples: z.number().describe('Most samples of one metric (one a minute)'),
        }),
      ),
      note: z.string().optional(),
    }),
    handler: ({ svc }, input) => svc.healthHistory(input),
  }),
  operation({
    name: 'gcloud_set_autoscale_policy',
    title: 'Set autoscale policy',
    description: 'Auto-scale a VM on a type ladder: up if CPU avg > 70% and max > 85% over 2 h, down if all low.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'PUT', path: '/gcloud/autoscale/policy' },
    cli: { command: ['autoscale', 'set'], args: ['project', 'zone', 'instanceName', 'mode'] },
    input: z.object({ ...vmRef, mode: z.enum(['off', 'recommend', 'act']).describe('recommend only records'), ladder: ladder.optional(), rules: rules.optional() }),
    output: policySchema,
    handler: async ({ svc, principal }, input) => policyView(await svc.setPolicy(principal.actor, input)),
  }),
  operation({
    name: 'gcloud_get_autoscale_policy',
    title: 'Get autoscale policies',
    description: 'Policies, all or filtered.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/gcloud/autoscale/policy' },
    cli: { command: ['autoscale', 'get'], args: ['project', 'instanceName'] },
    input: z.object({ project: project.optional(), instanceName: instanceName.optional() }),
    output: z.object({ items: z.array(policySchema) }),
    handler: async ({ svc }, input) => ({ items: (await svc.getPolicies(input)).map(policyView) }),
  }),
  operation({
    name: 'gcloud_remove_autoscale_policy',
    title: 'Remove autoscale policy',
    description: "Delete a VM's policy.",
    access: 'admin',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/gcloud/autoscale/policy' },
    cli: { command: ['autoscale', 'remove'], args: ['project', 'zone', 'instanceName'] },
    input: z.object(vmRef),
    output: policySchema,
    handler: async ({ svc, principal }, input) => policyView(await svc.removePolicy(principal.actor, input)),
  }),
  operation({
    name: 'gcloud_autoscale_run',
    title: 'Run auto-scaler',
    description: 'Run policies now; decisions recorded.',
    access: 'admin',
    annotations: open(WRITE),
    rest: { method: 'POST', path: '/gcloud/autoscale/run' },
    cli: { command: ['autoscale', 'run'], args: ['project', 'instanceName'], columns: EVALUATION_COLUMNS, failWhen: { field: 'ok', values: [false] } },
    input: z.object({ project: project.optional(), instanceName: instanceName.optional() }),
    output: z.object({ ok: z.boolean().describe('false when an evaluation failed'), items: z.array(evaluationSchema) }),
    handler: async ({ svc, principal, progress }, input) => {
      const items = (await svc.autoscaleRun(principal.actor, input, progress)).map(evaluationView);
      return { ok: items.every((e) => e.outcome !== 'failed'), items };
    },
  }),
  operation({
    name: 'gcloud_autoscale_history',
    title: 'Autoscale history',
    description: 'Past decisions, inputs, reasons.',
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/gcloud/autoscale/history' },
    cli: { command: ['autoscale', 'history'], args: ['project', 'instanceName'], columns: EVALUATION_COLUMNS },
    input: z.object({ project: project.optional(), instanceName: instanceName.optional(), ...page }),
    output: z.object({ items: z.array(evaluationSchema), ...pageOutput }),
    handler: async ({ svc }, input) => {
      const page = await svc.history(input, input);
      return { items: page.items.map(evaluationView), nextCursor: page.nextCursor };
    },
  }),
  operation({
    name: 'gcloud_cost',
    title: 'Estimate cost',
    description: 'Monthly cost per VM and account.',
    access: 'admin',
    annotations: open(READ),
    rest: { method: 'GET', path: '/gcloud/cost' },
    cli: {
      command: ['gcloud', 'cost'],
      args: ['project'],
      formats: { monthlyUsd: 'usd', computeUsd: 'usd', diskUsd: 'usd', externalIpUsd: 'usd', totalUsd: 'usd' },
      nestedColumns: { vms: ['zone', 'name', 'status', 'machineType', 'monthlyUsd', 'note'] },
      failWhen: { field: 'failed', nonEmpty: true },
    },
    input: z.object({ project: project.optional() }),
    output: z.object({
      priceVersion: z.string(),
      asOf: z.string(),
      currency: z.literal('USD'),
      monthlyUsd: z.number(),
      leftOut: z.array(z.object({ account: z.string(), zone: z.string(), name: z.string(), machineType: z.string(), reason: z.string() })).describe('VMs monthlyUsd leaves out, and why'),
      accounts: z.array(
        z.object({
          account: z.string(),
          project: z.string(),
          monthlyUsd: z.number(),
          unpriced: z.number().describe('VMs without a price'),
          vms: z.array(z.object({ zone: z.string(), name: z.string(), status: z.string(), machineType: z.string(), monthlyUsd: z.number().nullable().describe('null: no price (leftOut says why)'), cost: costView.nullable(), note: z.string().optional() })),
        }),
      ),
      failed: accountFailures,
    }),
    handler: ({ svc }, input) => svc.cost(input.project),
  }),
  operation({
    name: 'gcloud_attach_vm',
    title: 'Attach VM to project',
    description: 'Tie a VM to a project.',
    access: 'admin',
    annotations: open(IDEMPOTENT_WRITE),
    rest: { method: 'PUT', path: '/gcloud/vm/attachment' },
    cli: { command: ['vm', 'attach'], args: ['project', 'zone', 'instanceName', 'attachTo'] },
    input: z.object({ ...vmRef, attachTo: supervisorProject.nullable().describe('Project; null detaches') }),
    output: z.object({ project: z.string(), zone: z.string(), instanceName: z.string(), attachedTo: z.string().nullable(), changed: z.boolean() }),
    handler: ({ svc, principal }, input) => svc.attachVm(principal.actor, input, input.attachTo),
  }),
];
