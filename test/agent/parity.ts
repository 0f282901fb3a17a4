// Parity cases of the agent domain: see test/parity/harness.ts. Each interface gets its own
// project whose checkout is under the scratch folder (`…-via-<interface>`), and the parity
// daemon's Claude Code command is the scripted fake (PARITY_AGENT_RULES). What differs between
// three real loops — ids, commit hashes — is replaced before comparing.
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { setupActor, type Iface, type Json, type ParityCases, type ParityContext } from '../parity/harness.js';
import { waitFor, type FakeRule } from './fixture.js';
import { git, writeFiles } from './fixture.js';
import { FEATURE, GOOD, GREETER, planRule } from './greeter.js';

const HANG = 'Wait for ever';
/** A loop whose feature is HANG stays in Plan until cancelled; any other succeeds. */
export const PARITY_AGENT_RULES: FakeRule[] = [{ match: `Feature: ${HANG}`, hang: true }, planRule, { match: 'IMPLEMENT phase', ...GOOD }];

async function repoProject(ctx: ParityContext, prefix: string, via: Iface | 'all'): Promise<string> {
  const name = `${prefix}-via-${via}`;
  const dir = join(ctx.scratch, 'repos', name);
  await mkdir(dir, { recursive: true });
  await git(dir, 'init', '-q', '-b', 'main');
  await git(dir, 'config', 'user.name', 'PIV Parity');
  await git(dir, 'config', 'user.email', 'piv-parity@example.invalid');
  await writeFiles(dir, GREETER);
  await git(dir, 'add', '--', ...Object.keys(GREETER));
  await git(dir, 'commit', '-q', '-m', 'first');
  await ctx.daemon.services.projects.add(setupActor.actor, { name, directory: dir });
  return name;
}

/** A loop hanging in Plan, its agent having said all it says (its last line read), so each interface's answer holds the same lines. */
async function hanging(ctx: ParityContext, prefix: string, via: Iface): Promise<string> {
  const project = await repoProject(ctx, prefix, via);
  const run = await ctx.daemon.services.agent.start(setupActor, { project, feature: HANG, validationCommands: ['node check.mjs'] });
  await waitFor(async () => ((await ctx.daemon.services.agent.status(setupActor, run.id)).lastLines ?? []).some((l) => l.startsWith('[plan] assistant:')), `loop ${run.id} to be in Plan`);
  return run.id;
}

/** Ids and commit hashes are each loop's own. */
function withoutIds(o: Json): Json {
  return JSON.parse(
    JSON.stringify(o)
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\b[0-9a-f]{40}\b/g, '<sha>')
      .replace(/\b[0-9a-f]{10}\b/g, '<sha>'),
  ) as Json;
}

export const agentParity: ParityCases = (ctx) => {
  let finished = '';
  return {
    start_piv: {
      input: async (via) => ({ project: await repoProject(ctx, 'ps', via), feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 }),
      normalise: withoutIds,
    },
    configure_piv: {
      input: async (via) => ({ project: await repoProject(ctx, 'pk', via), validationCommands: ['node check.mjs'] }),
    },
    get_piv_status: {
      async setup() {
        const project = await repoProject(ctx, 'pg', 'all');
        finished = (await ctx.daemon.services.agent.start(setupActor, { project, feature: FEATURE, validationCommands: ['node check.mjs'], waitSeconds: 50 })).id;
      },
      input: () => ({ id: finished }),
    },
    list_piv_runs: {
      input: () => ({ project: 'pg-via-all' }),
    },
    cancel_piv: {
      input: async (via) => ({ id: await hanging(ctx, 'pc', via) }),
      normalise: withoutIds,
    },
    resume_piv: {
      // A loop running here is not interrupted: resume answers its status (a crash restart is in test/agent/restart.test.ts).
      input: async (via) => ({ id: await hanging(ctx, 'pr', via) }),
      normalise: withoutIds,
    },
  };
};
