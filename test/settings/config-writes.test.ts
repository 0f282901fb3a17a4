// Several processes writing one config file (two daemons sharing a data dir, or a daemon and a
// `config set` run without it) each read, change and write it whole: every write must land.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { parse } from 'yaml';

const CHILD = new URL('./set-setting-child.ts', import.meta.url).pathname;

test('eight processes setting eight settings at the same moment: the file holds all eight, and no lock is left', async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-config-writes-'));
  try {
    const wanted: Record<string, string> = { callRetentionDays: '11', agentMaxTurns: '12', pivMaxRetries: '3', gcloudPollMs: '3013', secretMaxBytes: '65514', pivConcurrency: '3', portBlockSize: '50', logLevel: 'warn' };
    // Far enough ahead for every process to have started and loaded its modules.
    const goAt = Date.now() + 6_000;
    await Promise.all(Object.entries(wanted).map(([name, value]) => promisify(execFile)(process.execPath, ['--import', 'tsx', CHILD, home, name, value, String(goAt)], { timeout: 60_000 })));
    assert.ok(Date.now() > goAt);
    const file = parse(await readFile(join(home, 'config.yaml'), 'utf8')) as Record<string, unknown>;
    for (const [name, value] of Object.entries(wanted)) assert.equal(String(file[name]), value, `${name} was lost: ${JSON.stringify(file)}`);
    assert.equal(existsSync(join(home, 'config.yaml.lock')), false);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});

test('temp files a writer killed mid-write left (of the file and of its lock) are removed by the next write', async () => {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-config-writes-'));
  try {
    const { DOMAINS, loadConfig } = await import('../../src/app.js');
    const { SettingsStore } = await import('../../src/core/settings-store.js');
    const stray = ['.config.yaml.0123456789ab.tmp', '.config.yaml.lock.ba9876543210.tmp'];
    for (const name of stray) await writeFile(join(home, name), '{"pid":1}');
    await writeFile(join(home, '.other.yaml.0123456789ab.tmp'), 'not ours');
    await new SettingsStore(loadConfig({ SUPERVISOR_HOME: home }), DOMAINS).set('logLevel', 'warn');
    assert.deepEqual((await readdir(home)).sort(), ['.other.yaml.0123456789ab.tmp', 'config.yaml']);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
});
