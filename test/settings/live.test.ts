/**
 * Settings through a tool, applied without a restart: an agent told to set the
 * tunnel id does it with set_setting over MCP, and sync_tunnel works at once;
 * the config file holds it for the next start; the environment still wins, and
 * the answer says so; a setting that needs a restart says that.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import { parse } from 'yaml';
import { catalog, DOMAINS, loadConfig } from '../../src/app.js';
import { SettingsStore } from '../../src/core/settings-store.js';
import { daemonBackend } from '../cli/run-cli.js';
import { startFakeCloudflare, type FakeCloudflare } from '../fakes/cloudflare/index.js';
import { startTestDaemon, type TestDaemon } from '../helpers/daemon.js';
import { call, put, type Json, type ParityContext } from '../parity/harness.js';

const TOKEN = 'live-settings-cloudflare-token-000000000';
const TUNNEL_ID = '0b7c1f52-52f4-4a55-9d39-2f0fd8c3c0aa';

describe('settings applied live', () => {
  let fake: FakeCloudflare;
  let scratch: string;
  let cloudflared: string;
  const ctx = {} as ParityContext;
  let daemon: TestDaemon;
  const mcp = (name: string, input: Json) => call(ctx, 'mcp', catalog.get(name)!, input);

  before(async () => {
    fake = await startFakeCloudflare();
    fake.addToken(TOKEN, ['zone:read', 'dns:edit']);
    fake.addZone('example.com');
    fake.addZone('other.org');
    scratch = await mkdtemp(join(tmpdir(), 'supervisor-live-'));
    cloudflared = join(scratch, 'cloudflared.yml');
    // No `tunnel:` key: sync_tunnel cannot know the tunnel until the setting is there.
    await writeFile(cloudflared, 'ingress:\n  - service: http_status:404\n');
    daemon = await startTestDaemon(await daemonBackend(), {
      SUPERVISOR_CLOUDFLARE_API_URL: fake.url,
      SUPERVISOR_CLOUDFLARED_CONFIG: cloudflared,
      SUPERVISOR_CLOUDFLARED_RESTART: 'true',
    });
    Object.assign(ctx, { daemon, scratch, cliEnv: {} });
    await put(ctx, 'meta/cloudflare/api_token', TOKEN);
  });
  after(async () => {
    await daemon?.close();
    await fake?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  test('set the tunnel id through MCP, then sync_tunnel works with no restart', async () => {
    const before = await mcp('sync_tunnel', {});
    assert.equal(before.ok, false);
    assert.match((before as { message: string }).message, /tunnel id: .*supervisor config set cloudflareTunnelId <uuid>.*no restart needed/);

    const set = await mcp('set_setting', { name: 'SUPERVISOR_CLOUDFLARE_TUNNEL_ID', value: TUNNEL_ID });
    assert.ok(set.ok, JSON.stringify(set));
    const answer = set.output as { applied: string; file: string; setting: { name: string; value: string; source: string } };
    assert.equal(answer.applied, 'live');
    assert.deepEqual([answer.setting.name, answer.setting.value, answer.setting.source], ['cloudflareTunnelId', TUNNEL_ID, 'file']);
    assert.equal(answer.file, join(daemon.home, 'config.yaml'));
    assert.deepEqual(parse(await readFile(answer.file, 'utf8')), { cloudflareTunnelId: TUNNEL_ID });

    const sync = await mcp('sync_tunnel', {});
    assert.ok(sync.ok, JSON.stringify(sync));
    assert.equal((sync.output as { tunnelId: string }).tunnelId, TUNNEL_ID);
  });

  test('the environment wins over the file, and the answer says so; an invalid value is refused and nothing is written', async () => {
    const overridden = await mcp('set_setting', { name: 'cloudflaredRestart', value: 'systemctl restart cloudflared' });
    assert.ok(overridden.ok, JSON.stringify(overridden));
    assert.equal((overridden.output as { applied: string }).applied, 'overridden');
    assert.match((overridden.output as { message: string }).message, /SUPERVISOR_CLOUDFLARED_RESTART is set in the environment and wins/);
    const file = join(daemon.home, 'config.yaml');
    const text = await readFile(file, 'utf8');
    const bad = await mcp('set_setting', { name: 'cloudflareTunnelMode', value: 'sideways' });
    assert.equal(bad.ok, false);
    assert.match((bad as { message: string }).message, /setting cloudflareTunnelMode \(SUPERVISOR_CLOUDFLARE_TUNNEL_MODE\) is invalid/);
    // Neither a value nor unset: the value is what is missing (it said "not both").
    const neither = await mcp('set_setting', { name: 'logLevel' });
    assert.match((neither as { message: string }).message, /value: missing; give logLevel a value, or unset: true for its default/);
    // Values the daemon would find wrong only later (at its next start, or as an outage on every call) are refused when set.
    const later: Array<[string, string, RegExp]> = [
      ['host', 'not a host', /must be an IP address .* or a host name/],
      ['databaseUrl', 'mysql://x', /must be a postgres:\/\/ or postgresql:\/\/ URL/],
      ['gcloudComputeUrl', 'ftp://x', /must be an http:\/\/ or https:\/\/ URL/],
      ['cloudflareApiUrl', 'mailto:x@example.com', /must be an http:\/\/ or https:\/\/ URL/],
      ['cloudflaredConfig', 'config.yml', /must be an absolute path/],
      // Every loop would fail after the restart.
      ['agentCommand', '/nonexistent/claude', /is not a command this daemon can start: give the path of an executable file, or a name on its PATH/],
      ['agentCommand', 'no-such-claude-anywhere', /is not a command this daemon can start/],
      // Said in the value's terms, not zod's ("Too big: expected number to be <=65535").
      ['port', '70000', /"70000" is more than 65535, the most it may be$/],
      ['callRetentionDays', '0', /"0" is less than 1, the least it may be$/],
    ];
    for (const [name, value, message] of later) {
      const refused = await mcp('set_setting', { name, value });
      assert.equal(refused.ok, false, name);
      assert.match((refused as { message: string }).message, message, name);
    }
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('a setting that needs a restart: the answer shows the value in use and the pending one, until the restart', async () => {
    const set = await mcp('set_setting', { name: 'agentCommand', value: process.execPath });
    assert.ok(set.ok, JSON.stringify(set));
    const output = set.output as { applied: string; setting: { value: string; source: string; pending?: string } };
    assert.equal(output.applied, 'restart');
    // The value in use is still the default, and the source says so; the file's value waits for the restart.
    assert.deepEqual([output.setting.value, output.setting.source, output.setting.pending], ['claude', 'default', process.execPath]);
    const got = await mcp('get_setting', { name: 'agentCommand' });
    assert.ok(got.ok, JSON.stringify(got));
    assert.equal((got.output as { pending?: string }).pending, process.execPath);
    const live = await mcp('get_setting', { name: 'portDenyList' });
    assert.ok(live.ok, JSON.stringify(live));
    assert.equal(Object.hasOwn(live.output as object, 'pending'), false, 'no pending value when nothing waits for a restart');
  });

  test('the master key and the data dir are refused, saying how they are set; the file is not touched', async () => {
    const file = join(daemon.home, 'config.yaml');
    const text = await readFile(file, 'utf8');
    for (const [name, reason] of [
      ['masterKey', /^masterKey is the key that opens every secret, so it is not a config-file setting: set SUPERVISOR_MASTER_KEY in the environment .*`rotate_master_key` changes it$/],
      ['SUPERVISOR_MASTER_KEY', /^masterKey is the key that opens every secret/],
      ['home', /^home \(SUPERVISOR_HOME\) is where the config file lives/],
    ] as const) {
      const refused = await mcp('set_setting', { name, value: 'abc' });
      assert.equal(refused.ok, false);
      assert.match((refused as { message: string }).message, reason);
      assert.equal((await mcp('set_setting', { name, unset: true })).ok, false);
    }
    assert.equal(await readFile(file, 'utf8'), text);
  });

  test('the port deny list applies at once: check_port says a newly denied port is never handed out', async () => {
    const beforeSet = await mcp('check_port', { port: 4321 });
    assert.ok(beforeSet.ok, JSON.stringify(beforeSet));
    assert.equal((beforeSet.output as { excluded: unknown }).excluded, null);
    const set = await mcp('set_setting', { name: 'portDenyList', value: '22,5432,4321' });
    assert.ok(set.ok, JSON.stringify(set));
    assert.equal((set.output as { applied: string }).applied, 'live');
    const after = await mcp('check_port', { port: 4321 });
    assert.ok(after.ok, JSON.stringify(after));
    assert.notEqual((after.output as { excluded: unknown }).excluded, null, JSON.stringify(after.output));
  });

  test('the managed zones apply at once: a zone taken out of the setting is no longer used', async () => {
    const plan = { hostname: 'api.example.com', target: 'origin.example.net', dryRun: true };
    assert.ok((await mcp('create_cname', plan)).ok);
    const set = await mcp('set_setting', { name: 'cloudflareZones', value: 'other.org' });
    assert.ok(set.ok, JSON.stringify(set));
    assert.equal((set.output as { applied: string }).applied, 'live');
    const refused = await mcp('create_cname', plan);
    assert.equal(refused.ok, false);
    assert.match((refused as { message: string }).message, /no managed Cloudflare zone holds api\.example\.com; zones: other\.org/);
    await mcp('set_setting', { name: 'cloudflareZones', unset: true });
    assert.ok((await mcp('create_cname', plan)).ok);
  });

  test("unsetting keeps the file's comments: the header above the first key, and above the last one left", async () => {
    const file = join(daemon.home, 'config.yaml');
    const before = await readFile(file, 'utf8').catch(() => '');
    try {
      await writeFile(file, '# settings of this host\n# ask ops before changing\nportBlockSize: 50 # for the small VM\nportBlockStart: 4000\n');
      assert.ok((await mcp('set_setting', { name: 'portBlockSize', unset: true })).ok);
      assert.equal(await readFile(file, 'utf8'), '# settings of this host\n# ask ops before changing\nportBlockStart: 4000\n');
      assert.ok((await mcp('set_setting', { name: 'portBlockStart', unset: true })).ok);
      assert.equal(await readFile(file, 'utf8'), '# settings of this host\n# ask ops before changing\n');
      assert.ok((await mcp('set_setting', { name: 'portBlockSize', value: '60' })).ok);
      assert.equal(await readFile(file, 'utf8'), '# settings of this host\n# ask ops before changing\n\nportBlockSize: 60\n');
    } finally {
      await writeFile(file, before);
    }
  });

  test('a setting read only at start says it needs a restart; numbers are written as numbers', async () => {
    const set = await mcp('set_setting', { name: 'portBlockSize', value: '50' });
    assert.ok(set.ok, JSON.stringify(set));
    assert.equal((set.output as { applied: string }).applied, 'restart');
    assert.equal((parse(await readFile(join(daemon.home, 'config.yaml'), 'utf8')) as Record<string, unknown>).portBlockSize, 50);
    // A number given as JSON is taken as the text the file would hold, as an agent would pass it.
    const numeric = await mcp('set_setting', { name: 'portBlockSize', value: 60 });
    assert.ok(numeric.ok, JSON.stringify(numeric));
    assert.equal((parse(await readFile(join(daemon.home, 'config.yaml'), 'utf8')) as Record<string, unknown>).portBlockSize, 60);
  });

  test('list_settings hides keys and passwords', async () => {
    const list = await mcp('list_settings', {});
    assert.ok(list.ok);
    const items = (list.output as { items: Array<{ name: string; value: string | null }> }).items;
    assert.ok(items.some((i) => i.name === 'cloudflareTunnelId' && i.value === TUNNEL_ID));
    assert.equal(JSON.stringify(items).includes(TOKEN), false);
  });
});

/** Settings as a data dir of its own sees them (`env` beside SUPERVISOR_HOME); the dir is removed after `use`. */
async function inOwnHome(use: (store: (env?: Record<string, string>) => SettingsStore, home: string) => Promise<void>): Promise<void> {
  const home = await mkdtemp(join(tmpdir(), 'supervisor-settings-'));
  try {
    await use((env = {}) => new SettingsStore(loadConfig({ SUPERVISOR_HOME: home, ...env }), DOMAINS), home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}

describe('a path setting left unset', () => {
  test('shows the place in the data dir it is, the one the domain uses, not "-"', () =>
    inOwnHome(async (store, home) => {
      const items = await store().list();
      const root = items.find((i) => i.name === 'instructionsRoot');
      assert.deepEqual([root?.value, root?.source, root && 'pending' in root], [join(home, 'instructions'), 'default', false]);
      const set = await store({ SUPERVISOR_INSTRUCTIONS_ROOT: '/srv/layers' }).list();
      assert.equal(set.find((i) => i.name === 'instructionsRoot')?.value, '/srv/layers');
    }));
});

describe('settings written at once', () => {
  test('values an earlier version took, now refused when set, still load from the config file and can be unset', async () => {
    const { loadConfig, DOMAINS } = await import('../../src/app.js');
    const { SettingsStore } = await import('../../src/core/settings-store.js');
    const home = await mkdtemp(join(tmpdir(), 'supervisor-older-values-'));
    try {
      await writeFile(join(home, 'config.yaml'), 'cloudflareApiUrl: ftp://example.invalid/api\ncloudflaredConfig: cloudflared/config.yml\nhost: localhost\n');
      const config = loadConfig({ SUPERVISOR_HOME: home });
      const store = new SettingsStore(config, DOMAINS);
      assert.equal((await store.get('cloudflareApiUrl')).value, 'ftp://example.invalid/api');
      await assert.rejects(store.set('cloudflareApiUrl', 'ftp://other.invalid/api'), (err: Error & { details?: Record<string, unknown> }) => {
        assert.match(err.message, /must be an http:\/\/ or https:\/\/ URL/);
        // The field of set_setting's input that is wrong, as every other refusal names it.
        assert.deepEqual(err.details, { field: 'value', setting: 'cloudflareApiUrl', fields: [{ field: 'value', message: err.message }] });
        return true;
      });
      await assert.rejects(store.set('port', 'abc'), (err: Error & { details?: Record<string, unknown> }) => err.details?.field === 'value');
      await store.set('cloudflareApiUrl', null);
      await store.set('cloudflaredConfig', null);
      assert.equal(await readFile(join(home, 'config.yaml'), 'utf8'), 'host: localhost\n');
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });

  test('eight set_setting calls served side by side all land in the config file (each reads, changes and writes it whole)', () =>
    inOwnHome(async (store) => {
      const one = store();
      const wanted = { callRetentionDays: '11', agentMaxTurns: '12', pivMaxRetries: '3', gcloudPollMs: '3013', secretMaxBytes: '65514', pivConcurrency: '3', portBlockSize: '50', logLevel: 'warn' };
      await Promise.all(Object.entries(wanted).map(([name, value]) => one.set(name, value)));
      // A new store reads the file as a restart would.
      const file = await store().list();
      for (const [name, value] of Object.entries(wanted)) assert.equal(file.find((i) => i.name === name)?.value, value, name);
    }));
});

describe('settings that must not be shown', () => {
  test('the master key is hidden and a database URL loses its password', () =>
    inOwnHome(async (store) => {
      const items = await store({ DATABASE_URL: 'postgres://app:hunter2@db.example/supervisor', SUPERVISOR_MASTER_KEY: 'a'.repeat(64) }).list();
      assert.equal(items.find((i) => i.name === 'databaseUrl')?.value, 'postgres://app:****@db.example/supervisor');
      assert.equal(items.find((i) => i.name === 'masterKey')?.value, '(set, hidden)');
      assert.equal(JSON.stringify(items).includes('hunter2') || JSON.stringify(items).includes('a'.repeat(64)), false);
    }));

  test('a password given as a query parameter (pg reads ?password= and ?sslpassword=) is masked too, the rest shown as given', () =>
    inOwnHome(async (store) => {
      const items = await store({ DATABASE_URL: 'postgres://app@db.example:5432/supervisor?password=S3cret_XYZ&application_name=qpw&sslpassword=k3y_PW' }).list();
      assert.equal(items.find((i) => i.name === 'databaseUrl')?.value, 'postgres://app@db.example:5432/supervisor?password=****&application_name=qpw&sslpassword=****');
      assert.equal(/S3cret_XYZ|k3y_PW/.test(JSON.stringify(items)), false);
    }));
});

describe('the environment and the config file disagree', () => {
  test('a command run without the daemon says which one it used', async () => {
    const { assertCliBuilt, cliEnv, runCli, describeResult } = await import('../cli/run-cli.js');
    assertCliBuilt();
    const home = await mkdtemp(join(tmpdir(), 'supervisor-disagree-'));
    try {
      await writeFile(join(home, 'config.yaml'), 'logLevel: error\n');
      const r = await runCli(['token', 'whoami'], { env: cliEnv(home, { SUPERVISOR_LOG_LEVEL: 'warn' }) });
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stderr, /^supervisor: note: SUPERVISOR_LOG_LEVEL from the environment is used; logLevel in .*config\.yaml says otherwise/m);
    } finally {
      await rm(home, { recursive: true, force: true });
    }
  });
});

describe('daemons sharing a data dir', () => {
  test("a live setting one writes is in use on the other within its look at the file; the environment and restart-only settings are left alone", async () => {
    const home = await mkdtemp(join(tmpdir(), 'supervisor-settings-'));
    const other = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_LOG_LEVEL: 'error' });
    const following = new SettingsStore(other, DOMAINS);
    const stop = following.follow(20);
    try {
      const writer = new SettingsStore(loadConfig({ SUPERVISOR_HOME: home }), DOMAINS);
      await writer.set('cloudflareZones', 'new.example.com,b.example.com');
      await writer.set('logLevel', 'debug');
      await writer.set('port', '3999');
      const cloudflare = other.domains.cloudflare as Record<string, unknown>;
      for (let i = 0; i < 200 && !isDeepStrictEqual(cloudflare.cloudflareZones, ['new.example.com', 'b.example.com']); i++) await delay(10);
      assert.deepEqual(cloudflare.cloudflareZones, ['new.example.com', 'b.example.com']);
      assert.equal(other.logLevel, 'error', 'SUPERVISOR_LOG_LEVEL wins, as at start');
      assert.equal(other.port, 3000, 'port waits for a restart');
      // Back to the default when the line goes; a file that is not YAML changes nothing.
      await writer.set('cloudflareZones', null);
      for (let i = 0; i < 200 && !isDeepStrictEqual(cloudflare.cloudflareZones, []); i++) await delay(10);
      assert.deepEqual(cloudflare.cloudflareZones, []);
      await writeFile(join(home, 'config.yaml'), 'cloudflareZones: [unclosed\n');
      assert.deepEqual(await following.reload(), []);
      assert.deepEqual(cloudflare.cloudflareZones, []);
    } finally {
      stop();
      await rm(home, { recursive: true, force: true });
    }
  });
});
