// The gcloud commands as a person types them, through the built CLI and a running daemon
// pointed at the fake Google: a key from a file or stdin, VM commands with positional words,
// --dry-run, a refusal without --confirm, and no key material in anything printed.
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describeResult, parseJson, runCli, useCliDaemon } from '../cli/run-cli.js';
import { startFakeGoogle, type FakeGoogle, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';
import { assertNoSecrets } from './secrets.js';

const ZONE = 'us-central1-a';
const env: Record<string, string> = {};
let fake: FakeGoogle;
const keys: ServiceAccountKeyJson[] = [];
const printed: string[] = [];

before(async () => {
  const t0 = Date.now();
  fake = await startFakeGoogle({ now: () => Date.parse('2026-11-23T10:00:00Z') + (Date.now() - t0) });
  Object.assign(env, { SUPERVISOR_GCLOUD_COMPUTE_URL: fake.computeRootUrl, SUPERVISOR_GCLOUD_MONITORING_URL: fake.monitoringUrl, SUPERVISOR_GCLOUD_POLL_MS: '5' });
  fake.addInstance('cli-host-1', ZONE, { name: 'web', machineType: 'e2-medium' });
});
const cli = useCliDaemon(env);
after(async () => {
  assertNoSecrets(printed, keys, fake.issuedTokens());
  await fake?.close();
});

const run = async (args: string[], stdin?: string) => {
  const r = await runCli(args, { env: cli.env, stdin });
  printed.push(r.stdout, r.stderr);
  return r;
};
const ok = async (args: string[], stdin?: string) => {
  const r = await run([...args, '--json'], stdin);
  assert.equal(r.code, 0, describeResult(r));
  return parseJson(r);
};

describe('supervisor gcloud / vm / autoscale', () => {
  test('add-account reads the key from a file or from stdin and never prints it', async () => {
    const a = fake.addServiceAccount({ projectId: 'cli-host-1' }).key;
    const b = fake.addServiceAccount({ projectId: 'cli-other-1' }).key;
    keys.push(a, b);
    const file = join(cli.dir, 'key.json');
    await writeFile(file, JSON.stringify(a, null, 2), { mode: 0o600 });
    const added = await ok(['gcloud', 'add-account', 'host', file]);
    assert.deepEqual([added.account, added.projectId, added.created], ['host', 'cli-host-1', true]);
    assert.equal((await ok(['gcloud', 'add-account', 'other'], JSON.stringify(b))).clientEmail, b.client_email);
    const listed = await run(['gcloud', 'accounts']);
    assert.equal(listed.code, 0, describeResult(listed));
    // A table for people: a header, then one row per account.
    assert.match(listed.stdout, /^ACCOUNT\s+PROJECT ID\s+CLIENT EMAIL\s+LAST SUCCESS AT$/m);
    assert.match(listed.stdout, /\nhost\s+cli-host-1\s+sa-\S+@cli-host-1\.iam\.gserviceaccount\.com\s/);
    assert.ok(!listed.stdout.includes('PRIVATE KEY'), 'no key material in the table');
  });

  test('vm list and a dry-run resize with the cost change', async () => {
    assert.deepEqual(((await ok(['vm', 'list', 'host'])).items as Array<{ name: string }>).map((v) => v.name), ['web']);
    // The table has what a person looks for: where it runs, its state and size, its addresses and the project it serves.
    const table = await run(['vm', 'list', 'host']);
    assert.match(table.stdout, /^ACCOUNT\s+NAME\s+ZONE\s+STATUS\s+MACHINE TYPE\s+INTERNAL IP\s+EXTERNAL IP\s+ATTACHED TO$/m);
    assert.match(table.stdout, new RegExp(`^host\\s+web\\s+${ZONE}\\s+RUNNING\\s+e2-medium\\s`, 'm'));
    // After a call Google answered, the account's last success shows.
    assert.match((await run(['gcloud', 'accounts'])).stdout, /^host\s+cli-host-1\s+\S+\s+(just now|\d+[smhd] ago)$/m);
    const plan = await ok(['vm', 'resize', 'cli-host-1', ZONE, 'web', 'e2-standard-2', '--dry-run']);
    assert.deepEqual(plan.planned, ['stop', 'setMachineType', 'start']);
    assert.equal((plan.cost as { changeUsd: number }).changeUsd, 24.46);
    assert.equal(String(fake.instance('cli-host-1', ZONE, 'web')?.machineType).split('/').pop(), 'e2-medium');
  });

  test('vm list with a zone where the account goes says so, names the accounts and the --zone flag; --zone alone lists that zone of every account', async () => {
    fake.resetCalls();
    const r = await run(['vm', 'list', ZONE]);
    assert.equal(r.code, 1, describeResult(r));
    assert.equal(
      r.stderr,
      'supervisor: invalid_input: project: us-central1-a is a zone, not an account or project id (accounts: host (cli-host-1), other (cli-other-1)); to look in one zone, give it as the zone (--zone): with no project for every account, or with one of them as project\n',
    );
    assert.deepEqual(fake.calls.filter((c) => c.service !== 'oauth'), []);
    const inZone = await run(['vm', 'list', '--zone', ZONE]);
    assert.equal(inZone.code, 0, describeResult(inZone));
    assert.match(inZone.stdout, new RegExp(`^host\\s+web\\s+${ZONE}\\s+RUNNING\\s`, 'm'));
  });

  test('a destructive command without --confirm is a mistake in the command line: exit 2, saying what cannot be undone, and nothing is called or removed', async () => {
    fake.resetCalls();
    const r = await run(['vm', 'delete', 'host', ZONE, 'web']);
    assert.equal(r.code, 2, describeResult(r));
    assert.equal(
      r.stderr,
      'supervisor: vm delete: --confirm: deleting VM web and its disk cannot be undone; call again with --confirm\n' +
        'usage: supervisor vm delete <project> <zone> <instance-name> [--confirm]\nRun `supervisor vm delete --help` for more.\n',
    );
    assert.deepEqual(fake.calls, []);
    const json = await run(['gcloud', 'remove-account', 'other', '--json']);
    assert.equal(json.code, 2, describeResult(json));
    const { error } = JSON.parse(json.stderr) as { error: { code: string; message: string } };
    assert.deepEqual([error.code, error.message], ['usage', 'gcloud remove-account: --confirm: removing account other cannot be undone; call again with --confirm']);
    // An account that is not there is named first: the operation's failure, exit 1.
    const typo = await run(['gcloud', 'remove-account', 'nope']);
    assert.equal(typo.code, 1, describeResult(typo));
    assert.match(typo.stderr, /^supervisor: not_found: no Google Cloud account nope/);
    assert.deepEqual(((await ok(['gcloud', 'accounts'])).items as Array<{ account: string }>).map((a) => a.account), ['host', 'other']);
  });

  test('autoscale set takes the ladder as a list and the rules as --rules (as README and --help say); autoscale get shows it', async () => {
    const policy = await ok(['autoscale', 'set', 'host', ZONE, 'web', 'recommend', '--ladder', 'e2-small,e2-medium,e2-standard-2', '--rules', '{"upMaxPercent":90}']);
    assert.deepEqual([policy.mode, policy.ladder], ['recommend', ['e2-small', 'e2-medium', 'e2-standard-2']]);
    assert.equal((policy.rules as { upMaxPercent: number }).upMaxPercent, 90);
    const got = await ok(['autoscale', 'get', 'host']);
    assert.equal((got.items as unknown[]).length, 1);
  });

  test('autoscale run exits 1 when an evaluation failed (a VM deleted in the console); turning its policy off still works', async () => {
    fake.addInstance('cli-host-1', ZONE, { name: 'gone', machineType: 'e2-medium' });
    await ok(['autoscale', 'set', 'host', ZONE, 'gone', 'recommend']);
    fake.removeInstance('cli-host-1', ZONE, 'gone');
    const r = await run(['autoscale', 'run', 'host', 'gone']);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stdout, /if the VM was deleted, set its policy's mode to off/);
    assert.equal((await ok(['autoscale', 'set', 'host', ZONE, 'gone', 'off'])).mode, 'off');
  });

  test('gcloud cost exits 1 when an account could not be read, after printing the others', async () => {
    assert.equal((await run(['gcloud', 'cost'])).code, 0);
    fake.revokeKey(keys[1]!.client_email);
    fake.expireAllTokens();
    const r = await run(['gcloud', 'cost', '--json']);
    assert.equal(r.code, 1, describeResult(r));
    const answer = parseJson(r);
    assert.deepEqual((answer.failed as Array<{ account: string }>).map((f) => f.account), ['other']);
    assert.deepEqual((answer.accounts as Array<{ account: string }>).map((a) => a.account), ['host']);
  });

  test('vm list without a project lists every account, says which could not be read and why, and exits 1', async () => {
    // The key of `other` was revoked by the test before.
    const r = await run(['vm', 'list']);
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stdout, /^failed:\n\s+ACCOUNT\s+PROJECT\s+ERROR\n\s+other\s+cli-other-1\s+not_configured: Google refused an access token for service account \S+@cli-other-1\.iam\.gserviceaccount\.com/m);
    assert.match(r.stdout, new RegExp(`^host\\s+web\\s+${ZONE}\\s+RUNNING\\s`, 'm'));
  });

  test('gcloud cost names the VMs its total leaves out, and why', async () => {
    fake.addInstance('cli-host-1', ZONE, { name: 'unpriced', machineType: 'e2-highmem-2' });
    const r = await run(['gcloud', 'cost', 'host']);
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^leftOut:\n\s+ACCOUNT\s+ZONE\s+NAME\s+MACHINE TYPE\s+REASON\n\s+host\s+us-central1-a\s+unpriced\s+e2-highmem-2\s+no price for e2-highmem-2 in us-central1 in price table \S+/m);
    // Said once: the VM's row under its account shows no figure and no note repeating the reason.
    assert.equal(r.stdout.match(/no price for e2-highmem-2/g)?.length, 1, r.stdout);
    assert.match(r.stdout, /^\s+us-central1-a\s+unpriced\s+RUNNING\s+e2-highmem-2\s+-$/m);
    fake.removeInstance('cli-host-1', ZONE, 'unpriced');
  });
});

describe('supervisor vm history', () => {
  test('after a health read, the stored samples per bucket, for people and as JSON', async () => {
    fake.setLoad('cli-host-1', 'web', { cpu: 0.25, memory: 60, disk: 40 });
    await ok(['vm', 'health', 'host', ZONE, 'web', '--minutes', '120']);
    const json = await ok(['vm', 'history', 'host', ZONE, 'web', '--minutes', '120', '--points', '4']);
    assert.equal(json.stepMinutes, 30);
    const items = json.items as Array<{ cpuAverage: number; memoryMax: number; diskAverage: number }>;
    assert.deepEqual(items.map((r) => [r.cpuAverage, r.memoryMax, r.diskAverage]), [[25, 60, 40], [25, 60, 40], [25, 60, 40], [25, 60, 40]]);
    const human = await run(['vm', 'history', 'host', ZONE, 'web', '--minutes', '120', '--points', '4']);
    assert.equal(human.code, 0, describeResult(human));
    // One row per bucket, the metrics side by side in percent.
    assert.match(human.stdout, /AT\s+CPU AVERAGE\s+CPU MAX\s+MEMORY AVERAGE\s+MEMORY MAX\s+DISK AVERAGE\s+DISK MAX/);
    assert.equal(human.stdout.match(/ 25%\s+25%\s+60%\s+60%\s+40%\s+40%/g)?.length, 4, human.stdout);
  });
});
