/**
 * Every operation gives the same answer through REST, MCP and the CLI.
 *
 * The three interfaces are generated from one catalog, so they should not be
 * able to drift apart; this test holds them to it. Each operation has a case
 * in its domain's test/<domain>/parity.ts (the suite fails for an operation
 * without one, so a new operation forces a new case) that calls it through
 *   (a) REST: `fetch` on /api/v1/…,
 *   (b) MCP: a raw JSON-RPC `tools/call` POSTed to /mcp/meta (Streamable HTTP),
 *   (c) the CLI: `supervisor <group> <verb> --input '<json>' --json`,
 * all with the same admin token against one daemon, and compares the answers.
 *
 * Where an operation writes, each interface works in its own folder
 * (…/via-rest/…, …/via-mcp/…, …/via-cli/…) prepared the same way, so the three
 * calls see equivalent state; that folder name is the one difference every
 * comparison removes. The test daemon runs on a frozen clock, so timestamps
 * (createdAt, updatedAt, lastReadAt, …) are equal and are compared, not stripped.
 * Anything else that legitimately differs is normalised in its own case, with
 * the reason next to it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { catalog } from '../../src/app.js';
import { describeCommands } from '../../src/cli/commands.js';
import { inCliTerms } from '../../src/cli/cli-terms.js';
import { agentParity, PARITY_AGENT_RULES } from '../agent/parity.js';
import { fakeClaude, type FakeClaude } from '../agent/domain-fixture.js';
import { authParity } from '../auth/parity.js';
import { assertCliBuilt, cliEnv, daemonBackend } from '../cli/run-cli.js';
import { cloudflareParity } from '../cloudflare/parity.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { startTestDaemon } from '../helpers/daemon.js';
import { gcloudParity, startParityGoogle } from '../gcloud/parity.js';
import { instructionsParity } from '../instructions/parity.js';
import { knowledgeParity } from '../knowledge/parity.js';
import { portsParity } from '../ports/parity.js';
import { projectsParity } from '../projects/parity.js';
import { secretsParity } from '../secrets/parity.js';
import { tasksParity } from '../tasks/parity.js';
import { settingsParity } from '../settings/parity.js';
import { call, IFACES, put, withoutInterfaceFolder, type Json, type ParityCase, type ParityContext } from './harness.js';

const CF_TOKEN = 'parity-cloudflare-token-0000000000000000';
const TUNNEL_ID = '6ff42ae2-765d-4adf-8112-31c55c1551ef';

let cloudflare: FakeCloudflare;
let agent: FakeClaude;
let google: Awaited<ReturnType<typeof startParityGoogle>> | undefined;
const ctx = {} as ParityContext;
const CASES: Record<string, ParityCase> = Object.assign({}, ...[projectsParity, authParity, portsParity, secretsParity, cloudflareParity, instructionsParity, tasksParity, knowledgeParity, agentParity, gcloudParity, settingsParity].map((cases) => cases(ctx)));

describe('REST, MCP and CLI give the same answers', () => {
  before(async () => {
    assertCliBuilt();
    ctx.scratch = await mkdtemp(join(tmpdir(), 'supervisor-parity-'));
    cloudflare = await startFakeCloudflare();
    cloudflare.addToken(CF_TOKEN, ['zone:read', 'dns:edit', 'tunnel:edit']);
    cloudflare.addZone('example.com');
    agent = await fakeClaude(PARITY_AGENT_RULES);
    const cloudflared = join(ctx.scratch, 'cloudflared.yml');
    await writeFile(cloudflared, `tunnel: ${TUNNEL_ID}\ningress:\n  - service: http_status:404\n`);
    google = await startParityGoogle();
    ctx.daemon = await startTestDaemon(await daemonBackend(), {
      ...google.env,
      SUPERVISOR_CLOUDFLARE_API_URL: cloudflare.url,
      SUPERVISOR_CLOUDFLARED_CONFIG: cloudflared,
      SUPERVISOR_CLOUDFLARED_RESTART: 'true',
      SUPERVISOR_AGENT_COMMAND: agent.command,
      SUPERVISOR_PIV_CONCURRENCY: '8',
    });
    await put(ctx, 'meta/cloudflare/api_token', CF_TOKEN);
    // Tokens and grants are made only for projects that exist.
    for (const name of ['parity', 'parity-grantee', 'parity-lister']) await ctx.daemon.services.projects.add('test', { name });
    // The CLI uses the same admin token as the other two (not the daemon's local
    // credential), so answers that name the caller (get_identity, createdBy, audit actors) agree too.
    ctx.cliEnv = cliEnv(ctx.daemon.home, { SUPERVISOR_URL: ctx.daemon.url, SUPERVISOR_TOKEN: ctx.daemon.adminToken });
  });
  after(async () => {
    await ctx.daemon?.close();
    await cloudflare?.close();
    await agent?.remove();
    await google?.close();
    if (ctx.scratch) await rm(ctx.scratch, { recursive: true, force: true });
  });

  test('every case names an operation that exists', () => {
    const names = new Set(catalog.all().map((op) => op.name));
    assert.deepEqual(Object.keys(CASES).filter((name) => !names.has(name)), []);
  });

  for (const op of catalog.all()) {
    test(op.name, async () => {
      const parity = CASES[op.name];
      assert.ok(parity, `no parity case for operation ${op.name}: add one to test/${op.domain}/parity.ts`);
      await parity.setup?.();
      const outputs: Json[] = [];
      const inputs: Json[] = [];
      for (const via of IFACES) {
        const input = await parity.input(via);
        inputs.push(op.input.parse(input) as Json);
        const answer = await call(ctx, via, op, input, await parity.cliArgs?.(input, via));
        assert.ok(answer.ok, `${op.name} via ${via} failed: ${answer.ok ? '' : `${answer.code}: ${answer.message}`}`);
        outputs.push(answer.output);
      }
      parity.check?.(outputs);
      const [rest, mcp, cli] = outputs.map((o, i) => withoutInterfaceFolder(parity.normalise ? parity.normalise(o, inputs[i]!) : o));
      assert.deepEqual(mcp, rest, `${op.name}: MCP and REST differ`);
      assert.deepEqual(cli, rest, `${op.name}: CLI and REST differ`);
    });
  }

  test('errors are the same too: code and message (at the command line, in its terms)', async () => {
    const commands = describeCommands(catalog).commands;
    const failing: Array<{ op: string; input: Json; code: string }> = [
      { op: 'get_secret', input: { path: 'project/parity/errors/missing' }, code: 'not_found' },
      { op: 'set_secret', input: { path: 'project/parity//x', value: 'v' }, code: 'invalid_input' },
      { op: 'set_secret', input: { path: 'project/parity/errors/empty', value: '' }, code: 'invalid_input' },
      { op: 'list_secrets', input: { prefix: 'project/parity/', limit: 0 }, code: 'invalid_input' },
      { op: 'revoke_token', input: { id: '000000000000' }, code: 'not_found' },
      { op: 'create_token', input: { name: 'both', project: 'parity', admin: true }, code: 'invalid_input' },
      { op: 'create_token', input: { name: 'typo', project: 'no-such-project' }, code: 'not_found' },
      { op: 'create_a_record', input: { hostname: 'bad.example.com', address: 'not-an-address' }, code: 'invalid_input' },
      { op: 'create_cname', input: { hostname: 'api.elsewhere.org', target: 'origin.example.net' }, code: 'not_found' },
      { op: 'gcloud_get_vm', input: { project: 'parity', zone: 'us-central-1', instanceName: 'vm' }, code: 'invalid_input' },
      // A delete without confirm is not here: the CLI answers it as a usage error (exit 2), as test/gcloud/cli.test.ts checks.
      { op: 'gcloud_delete_vm', input: { project: 'parity', zone: 'us-central1-a', instanceName: 'Bad_Name', confirm: true }, code: 'invalid_input' },
    ];
    for (const f of failing) {
      const op = catalog.get(f.op)!;
      const answers = [];
      for (const via of IFACES) answers.push(await call(ctx, via, op, f.input));
      const [rest, mcp, cli] = answers;
      assert.deepEqual(rest, { ok: false, code: f.code, message: (rest as { message: string }).message }, `${f.op} via REST`);
      assert.deepEqual(mcp, rest, `${f.op}: MCP error differs from REST`);
      // The CLI says the same in its own terms (commands and flags for operations and fields), --json too.
      assert.deepEqual(cli, { ...rest, message: inCliTerms((rest as { message: string }).message, commands) }, `${f.op}: CLI error differs from REST`);
    }
  });
});
