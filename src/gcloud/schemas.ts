// Inputs and answers of the gcloud operations. Name shapes are patterns, which OpenAPI shows and
// the MCP tool list leaves out (mcp/server.ts UNLISTED); checks JSON Schema cannot show (a known
// region) are refinements. Every one names its field.
import { z } from 'zod';
import { projectName } from '../core/names.js';
import { MACHINE_TYPES, ZONE_SHAPE, zoneProblem } from './catalog.js';

const NAME = /^[a-z][a-z0-9-]{0,62}$/;
const named = (what: string) => `must be ${what}: lowercase letters, digits and -, starting with a letter, at most 63`;
const check = (test: (v: string) => true | string) => (v: string, ctx: z.RefinementCtx) => {
  const result = test(v);
  if (result !== true) ctx.addIssue({ code: 'custom', message: result });
};

export const accountName = z.string().regex(/^[a-z][a-z0-9-]{0,39}$/, 'must be 1-40 lowercase letters, digits and -, starting with a letter').describe('Account name');
export const project = z.string().regex(NAME, named('an account name or project id')).describe('Account/project id');
// The shape by pattern; a region that does not exist by refinement (a shape the pattern refused is not said twice).
export const zone = z.string().regex(ZONE_SHAPE, 'must be a zone such as us-central1-a').describe('Zone').superRefine(check((v) => !ZONE_SHAPE.test(v) || (zoneProblem(v) ?? true)));
export const instanceName = z.string().regex(NAME, named('a VM name')).describe('VM');
export const machineType = z.string().regex(/^[a-z][a-z0-9]*(?:-[a-z0-9]+)+$/, 'must be a machine type such as e2-standard-2');
export const confirm = z.boolean().optional().describe('Must be true');

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;
/** VM labels as Compute Engine takes them (at most 64; keys and values lowercase, digits, _ and -, at most 63), refused here rather than by Google. */
export const labels = z
  .object({})
  .catchall(z.string())
  .superRefine((value, ctx) => {
    const entries = Object.entries(value);
    if (entries.length > 64) ctx.addIssue({ code: 'custom', message: `at most 64 labels, got ${entries.length}` });
    for (const [key, v] of entries) {
      if (!LABEL_KEY.test(key)) ctx.addIssue({ code: 'custom', path: [key], message: 'a label key is 1-63 lowercase letters, digits, _ and -, starting with a lowercase letter' });
      else if (!LABEL_VALUE.test(v)) ctx.addIssue({ code: 'custom', path: [key], message: 'a label value is at most 63 lowercase letters, digits, _ and -' });
    }
  });
export const dryRun = z.boolean().optional().describe('Plan only');
export const vmRef = { project, zone, instanceName };

/** A ladder: known machine types, smallest first, no repeats. */
export const ladder = z
  .array(z.string())
  .describe('Types, smallest first')
  .superRefine((types, ctx) => {
    types.forEach((t, i) => {
      if (!MACHINE_TYPES.has(t)) ctx.addIssue({ code: 'custom', path: [i], message: `${t} is not a machine type the auto-scaler knows (${[...MACHINE_TYPES.keys()].slice(0, 7).join(', ')}, n1-/n2-standard-N…)` });
    });
    if (ctx.issues.length > 0) return;
    if (types.length < 2) ctx.addIssue({ code: 'custom', message: 'needs at least two machine types' });
    const steps = types.map((t) => MACHINE_TYPES.get(t)!);
    for (let i = 1; i < steps.length; i++) {
      const [a, b] = [steps[i - 1]!, steps[i]!];
      if (b.vcpus < a.vcpus || b.memoryGb < a.memoryGb || (b.vcpus === a.vcpus && b.memoryGb === a.memoryGb)) {
        ctx.addIssue({ code: 'custom', path: [i], message: `${b.machineType} is not bigger than ${a.machineType}; order the ladder smallest first` });
      }
    }
  });

export const RULE_NAMES = ['windowMinutes', 'upAveragePercent', 'upMaxPercent', 'downAveragePercent', 'downMaxPercent', 'minCoverage', 'cooldownMinutes', 'warmupMinutes'] as const;
const RULE_BOUNDS: Record<(typeof RULE_NAMES)[number], [number, number]> = {
  windowMinutes: [10, 1440],
  upAveragePercent: [1, 100],
  upMaxPercent: [1, 100],
  downAveragePercent: [0, 99],
  downMaxPercent: [0, 99],
  minCoverage: [0, 1],
  cooldownMinutes: [0, 10_080],
  warmupMinutes: [0, 1440],
};

/** Overrides of the default thresholds, checked by name and range (a record keeps the tool list short). */
export const rules = z
  .record(z.string(), z.number())
  .describe('e.g. {"upMaxPercent":90}')
  .superRefine((value, ctx) => {
    for (const [key, n] of Object.entries(value)) {
      const bounds = RULE_BOUNDS[key as (typeof RULE_NAMES)[number]];
      if (!bounds) ctx.addIssue({ code: 'custom', path: [key], message: `unknown rule; rules are ${RULE_NAMES.join(', ')}` });
      else if (!(n >= bounds[0] && n <= bounds[1])) ctx.addIssue({ code: 'custom', path: [key], message: `must be from ${bounds[0]} to ${bounds[1]}` });
    }
  });

/**
 * A supervisor project's name, by refinement: attachTo takes it or null, and with a pattern
 * zod lists a nullable string as anyOf, which costs tool-list tokens.
 */
export const supervisorProject = z.string().superRefine(check((v) => projectName.safeParse(v).success || 'must be a project name: 1-40 lowercase letters, digits and -, starting with a letter'));

// ---- answers -------------------------------------------------------------------------------

export const accountView = z.object({
  account: z.string(),
  projectId: z.string(),
  clientEmail: z.string(),
  keyId: z.string().describe('private_key_id of the stored key (not secret)'),
  secretPath: z.string(),
  createdAt: z.string(),
  lastSuccessAt: z.string().nullable().describe('Last call Google answered with this account'),
  lastFailureAt: z.string().nullable(),
  lastFailure: z.string().nullable(),
});

export const vmView = z.object({
  project: z.string(),
  zone: z.string(),
  name: z.string(),
  id: z.string(),
  status: z.string(),
  machineType: z.string(),
  labels: z.record(z.string(), z.string()),
  bootDiskGb: z.number().optional(),
  internalIp: z.string().optional(),
  externalIp: z.string().optional(),
  createdAt: z.string().optional(),
  lastStartedAt: z.string().optional(),
  lastStoppedAt: z.string().optional(),
  attachedTo: z.string().nullable().describe('Supervisor project this VM serves'),
});

export const costView = z.object({
  priceVersion: z.string(),
  currency: z.literal('USD'),
  region: z.string(),
  machineType: z.string(),
  hourlyUsd: z.number(),
  runningHours: z.number(),
  computeUsd: z.number(),
  diskType: z.string(),
  diskGb: z.number(),
  diskUsd: z.number(),
  externalIpUsd: z.number().describe('External IPv4 address while it runs'),
  totalUsd: z.number().describe('Estimated monthly cost'),
});

export const operationView = z.object({ operation: z.string(), type: z.string(), requestId: z.string(), target: z.string(), startedAt: z.string().optional(), endedAt: z.string().optional() });

const metricSummary = z
  .object({ average: z.number(), max: z.number(), latest: z.number(), latestAt: z.string(), samples: z.number(), expectedSamples: z.number(), coverage: z.number() })
  .nullable()
  .describe('Percent 0-100; null when there is no data');

export const healthView = z.object({
  account: z.string(),
  project: z.string(),
  zone: z.string(),
  instanceName: z.string(),
  instanceId: z.string().optional(),
  status: z.string(),
  machineType: z.string(),
  minutes: z.number(),
  from: z.string(),
  to: z.string(),
  cpu: metricSummary,
  memory: metricSummary,
  disk: metricSummary,
  opsAgent: z.object({ status: z.enum(['reporting', 'missing', 'unknown']), missing: z.array(z.enum(['memory', 'disk'])), message: z.string().optional() }),
});

export const policyView = z.object({
  project: z.string(),
  zone: z.string(),
  instanceName: z.string(),
  mode: z.enum(['off', 'recommend', 'act']),
  ladder: z.array(z.string()),
  rules: z.record(z.string(), z.number()).describe('Thresholds in force (defaults with the overrides)'),
  lastChangeAt: z.string().nullable(),
  updatedAt: z.string(),
  updatedBy: z.string(),
});

export const evaluationView = z.object({
  id: z.number(),
  at: z.string().describe('When the evaluation began'),
  project: z.string(),
  zone: z.string(),
  instanceName: z.string(),
  mode: z.string(),
  machineType: z.string().nullable(),
  action: z.enum(['up', 'down', 'none']),
  target: z.string().nullable(),
  rule: z.string(),
  reason: z.string(),
  outcome: z.enum(['resized', 'recommended', 'nothing', 'failed']),
  error: z.string().nullable(),
  inputs: z.record(z.string(), z.unknown()).describe('Metrics, policy and times the decision was made on'),
});
