// Without a daemon the CLI calls Google itself: what its logger says (a retried call) reaches the
// person as a warning line, and with --json stderr stays one JSON document.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertCliBuilt, cliEnv, describeResult, runCli } from '../cli/run-cli.js';
import { startFakeGoogle, type FakeGoogle } from '../fakes/gcloud/index.js';

const ZONE = 'us-central1-a';
let fake: FakeGoogle;
let home: string;
let env: Record<string, string>;

before(async () => {
  assertCliBuilt();
  fake = await startFakeGoogle();
  fake.addInstance('local-host-1', ZONE, { name: 'web', machineType: 'e2-medium' });
  home = await mkdtemp(join(tmpdir(), 'supervisor-gcloud-local-'));
  env = cliEnv(home, { SUPERVISOR_GCLOUD_COMPUTE_URL: fake.computeRootUrl, SUPERVISOR_GCLOUD_MONITORING_URL: fake.monitoringUrl, SUPERVISOR_GCLOUD_POLL_MS: '5' });
  const key = fake.addServiceAccount({ projectId: 'local-host-1' }).key;
  const added = await runCli(['gcloud', 'add-account', 'host'], { env, stdin: JSON.stringify(key) });
  assert.equal(added.code, 0, describeResult(added));
});
after(async () => {
  await fake?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

test('a call Google refused once and the retry answered: a warning line, or with --json one JSON document on stderr', async () => {
  fake.failNext(1, { status: 429 }, { service: 'compute' });
  const plain = await runCli(['vm', 'get', 'host', ZONE, 'web', '-f', 'status'], { env });
  assert.equal(plain.code, 0, describeResult(plain));
  assert.equal(plain.stdout, 'RUNNING');
  assert.match(plain.stderr, /^supervisor: warning: google api call failed \(.*\); retrying\n$/);

  fake.failNext(1, { status: 429 }, { service: 'compute' });
  const json = await runCli(['vm', 'get', 'host', ZONE, 'web', '--json'], { env });
  assert.equal(json.code, 0, describeResult(json));
  assert.equal((JSON.parse(json.stdout) as { status: string }).status, 'RUNNING');
  const stderr = JSON.parse(json.stderr) as { warnings: string[] };
  assert.equal(stderr.warnings.length, 1);
  assert.match(stderr.warnings[0]!, /^google api call failed \(.*\); retrying$/);
});

test('a key that is not JSON (an empty stdin) is said as the key, not as a --key flag the command does not have', async () => {
  const refused = await runCli(['gcloud', 'add-account', 'empty'], { env, stdin: 'not json' });
  assert.equal(refused.code, 1, describeResult(refused));
  assert.match(refused.stderr, /is not a usable service-account key: the key is not valid JSON; give the whole key file as downloaded/);
  assert.doesNotMatch(refused.stderr, /--key/);
});

test('VM answers read as the rest of the CLI: times local and relative, money in dollars, an empty list of labels a dash', async () => {
  const history = await runCli(['vm', 'history', 'host', ZONE, 'web'], { env });
  assert.equal(history.code, 0, describeResult(history));
  assert.match(history.stdout, /^from: +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(1d ago\)$/m);
  assert.match(history.stdout, /^to: +\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \(now\)$/m);
  const resize = await runCli(['vm', 'resize', 'host', ZONE, 'web', 'e2-standard-4', '--dry-run'], { env });
  assert.equal(resize.code, 0, describeResult(resize));
  assert.match(resize.stdout, /^ {2}before: +\$\d+\.\d{2}$/m);
  assert.match(resize.stdout, /^ {2}changeUsd: +\$\d+\.\d{2}$/m);
  const get = await runCli(['vm', 'get', 'host', ZONE, 'web'], { env });
  assert.match(get.stdout, /^labels: +-$/m);
});
