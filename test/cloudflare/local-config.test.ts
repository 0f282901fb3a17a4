// cloudflared's local config.yml as a person sees it: their other settings and comments stay,
// an unchanged ingress touches nothing, a failed restart leaves the file exactly as before.
// Every test works in its own temp folder, so files can run in parallel.
import { test, describe, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, lstat, mkdtemp, readFile, readlink, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { IngressRule } from '../../src/cloudflare/client.js';
import { readLocalConfig, writeLocalIngress } from '../../src/cloudflare/local-config.js';
import { SupervisorError } from '../../src/core/errors.js';
import { isError } from '../helpers/errors.js';

const SAMPLE = `# cloudflared for the build box — edited by hand too
tunnel: 6ff42ae2-765d-4adf-8112-31c55c1551ef
credentials-file: /etc/cloudflared/6ff42ae2.json # do not move
originRequest:
  connectTimeout: 30s
  noTLSVerify: false
warp-routing:
  enabled: true
metrics: "localhost:2000"
loglevel: info

# routes
ingress:
  - hostname: old.example.com
    service: http://localhost:3000
    originRequest:
      keepAliveTimeout: 90s
  - service: http_status:404
# end of file
`;

const SAMPLE_INGRESS: IngressRule[] = [
  { hostname: 'old.example.com', service: 'http://localhost:3000', originRequest: { keepAliveTimeout: '90s' } },
  { service: 'http_status:404' },
];

const NEW_INGRESS: IngressRule[] = [
  { hostname: 'new.example.com', service: 'http://localhost:4000' },
  { hostname: 'old.example.com', service: 'http://localhost:3000', originRequest: { keepAliveTimeout: '90s' } },
  { service: 'http_status:404' },
];

interface Box {
  dir: string;
  config: string;
  counter: string;
  /** A restart command that appends one line to `counter` per run. */
  countRestart: string;
  restarts: () => Promise<number>;
}

/** `content: null` leaves config.yml absent. */
async function box(t: TestContext, content: string | null = SAMPLE): Promise<Box> {
  const dir = await mkdtemp(join(tmpdir(), 'supervisor-localcfg-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  const config = join(dir, 'config.yml');
  if (content !== null) await writeFile(config, content, { mode: 0o644 });
  const counter = join(dir, 'restarts');
  return {
    dir,
    config,
    counter,
    countRestart: `echo restarted >> '${counter}'`,
    restarts: async () => (existsSync(counter) ? (await readFile(counter, 'utf8')).split('\n').filter(Boolean).length : 0),
  };
}


describe('readLocalConfig', () => {
  test('a missing file is reported as absent, not as an error', async (t) => {
    const b = await box(t, null);
    assert.deepEqual(await readLocalConfig(b.config), { exists: false, ingress: [] });
  });

  test('a folder where the file should be: not_configured naming it and the setting, for a read and a write (it was an internal error)', async (t) => {
    const b = await box(t, null);
    for (const attempt of [() => readLocalConfig(b.dir), () => writeLocalIngress({ path: b.dir, restartCommand: '' }, SAMPLE_INGRESS)]) {
      await assert.rejects(attempt(), isError('not_configured', new RegExp(`^Cloudflare is not configured: cloudflared's config file: ${b.dir} is a folder, not a file; \`supervisor config set cloudflaredConfig`)));
    }
  });

  test('reads the tunnel and the ingress rules, durations as written', async (t) => {
    const b = await box(t);
    const cfg = await readLocalConfig(b.config);
    assert.deepEqual(cfg, { exists: true, tunnel: '6ff42ae2-765d-4adf-8112-31c55c1551ef', ingress: SAMPLE_INGRESS });
  });

  test('an empty file or one without ingress has no rules', async (t) => {
    const b = await box(t, '');
    assert.deepEqual(await readLocalConfig(b.config), { exists: true, ingress: [] });
    await writeFile(b.config, 'tunnel: abc\ningress:\n');
    assert.deepEqual(await readLocalConfig(b.config), { exists: true, tunnel: 'abc', ingress: [] });
  });

  const broken: Array<[string, string, RegExp]> = [
    ['unparsable YAML', 'tunnel: a\ningress: [\n  - x\n', /not valid YAML \(line \d+, column \d+\)/],
    ['a duplicated key', 'tunnel: a\ntunnel: b\n', /not valid YAML \(line 2, column 1\).*unique/],
    ['a list at the top level', '- tunnel: a\n', /must be a YAML mapping/],
    ['ingress as a mapping', 'tunnel: a\ningress:\n  hostname: a.example.com\n', /line 3: ingress must be a list/],
    ['a rule that is not a mapping', 'ingress:\n  - service: hello_world\n  - http_status:404\n', /line 3: ingress rule 2 must be a mapping/],
    ['a rule with a misspelt key', 'ingress:\n  - hostnme: a.example.com\n    service: hello_world\n', /line 2: ingress rule 1 has an unknown key "hostnme"/],
    ['a rule without a service', 'ingress:\n  - hostname: a.example.com\n', /line 2: ingress rule 1 needs a service/],
  ];
  for (const [what, content, message] of broken) {
    test(`refuses ${what}, naming the file and line`, async (t) => {
      const b = await box(t, content);
      await assert.rejects(readLocalConfig(b.config), (err: unknown) => {
        assert.ok(isError('invalid_input', message)(err), String(err));
        assert.ok((err as Error).message.includes(b.config));
        return true;
      });
    });
  }
});

describe('writeLocalIngress', () => {
  test('replaces only the ingress; other keys and comments stay', async (t) => {
    const b = await box(t);
    const result = await writeLocalIngress({ path: b.config, restartCommand: b.countRestart }, NEW_INGRESS);
    assert.deepEqual(result, { changed: true, written: true, restarted: true, backupPath: `${b.config}.bak`, previous: SAMPLE_INGRESS });
    assert.equal(await b.restarts(), 1);

    const text = await readFile(b.config, 'utf8');
    for (const comment of ['# cloudflared for the build box — edited by hand too', '# do not move', '# routes', '# end of file']) {
      assert.ok(text.includes(comment), `${comment} kept in:\n${text}`);
    }
    const before = parse(SAMPLE) as Record<string, unknown>;
    const after = parse(text) as Record<string, unknown>;
    assert.deepEqual({ ...after, ingress: undefined }, { ...before, ingress: undefined });
    assert.deepEqual(after.ingress, NEW_INGRESS);
    assert.deepEqual((await readLocalConfig(b.config)).ingress, NEW_INGRESS);
    assert.equal(await readFile(`${b.config}.bak`, 'utf8'), SAMPLE);
  });

  test("a comment above a rule stays above that rule when others are added before it; a removed rule's comment is kept at the top", async (t) => {
    const b = await box(t, `tunnel: x
ingress:
  # written by hand
  - hostname: legacy.example.com
    service: http://localhost:8080
  # the old api
  - hostname: api.example.com
    service: http://localhost:3000
  - service: http_status:404
`);
    await writeLocalIngress({ path: b.config, restartCommand: '' }, [
      { hostname: 'app.example.com', service: 'http://localhost:5000' },
      { hostname: 'legacy.example.com', service: 'http://localhost:8080' },
      { service: 'http_status:404' },
    ]);
    const lines = (await readFile(b.config, 'utf8')).split('\n').map((l) => l.trim());
    assert.equal(lines[lines.indexOf('- hostname: legacy.example.com') - 1], '# written by hand', lines.join('\n'));
    assert.notEqual(lines[lines.indexOf('- hostname: app.example.com') - 1], '# written by hand');
    assert.ok(lines.includes('# the old api'), 'the comment of the rule that went is not lost');
    assert.ok(lines.indexOf('# the old api') < lines.indexOf('- hostname: app.example.com'), 'it stays at the top of the list');
  });

  test('the same rules again write nothing and do not restart', async (t) => {
    const b = await box(t);
    await writeLocalIngress({ path: b.config, restartCommand: b.countRestart }, NEW_INGRESS);
    const before = await stat(b.config);
    const bytes = await readFile(b.config);
    // Same rules spelled with another key order and an undefined field.
    const reordered = NEW_INGRESS.map((r) => ({ originRequest: r.originRequest, service: r.service, hostname: r.hostname, path: undefined }));
    const again = await writeLocalIngress({ path: b.config, restartCommand: b.countRestart }, reordered);
    assert.deepEqual(again, { changed: false, written: false, restarted: false, previous: NEW_INGRESS });
    const after = await stat(b.config);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.deepEqual(await readFile(b.config), bytes);
    assert.equal(await b.restarts(), 1);
  });

  test('a failing restart restores the file byte for byte and reports exit code and stderr', async (t) => {
    const b = await box(t);
    const original = await readFile(b.config);
    const command = `echo "starting cloudflared" >&2; echo "error parsing ingress: boom" >&2; exit 3`;
    await assert.rejects(writeLocalIngress({ path: b.config, restartCommand: command }, NEW_INGRESS), (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'unavailable');
      assert.match(err.message, /restart command ".*exit 3" exited with code 3/);
      assert.match(err.message, /error parsing ingress: boom/);
      assert.match(err.message, /restored to its previous content/);
      assert.equal(err.details.exitCode, 3);
      assert.equal(err.details.restored, true);
      return true;
    });
    assert.deepEqual(await readFile(b.config), original);
    assert.deepEqual(await readFile(`${b.config}.bak`), original);
    assert.equal((await stat(b.config)).mode & 0o777, 0o644);
  });

  test('a restart that hangs is stopped at the timeout and the file restored', async (t) => {
    const b = await box(t);
    const original = await readFile(b.config);
    // A restart that would take ten minutes: this test ending at all shows it was stopped.
    await assert.rejects(
      writeLocalIngress({ path: b.config, restartCommand: 'sleep 600', restartTimeoutMs: 200 }, NEW_INGRESS),
      isError('unavailable', /"sleep 600" did not finish within 200 ms/),
    );
    assert.deepEqual(await readFile(b.config), original);
  });

  test('a restart killed by a signal counts as failed', async (t) => {
    const b = await box(t);
    const original = await readFile(b.config);
    await assert.rejects(writeLocalIngress({ path: b.config, restartCommand: 'kill -9 $$' }, NEW_INGRESS), isError('unavailable', /killed by SIGKILL/));
    assert.deepEqual(await readFile(b.config), original);
  });

  test('only the last 2,000 characters of stderr are reported', async (t) => {
    const b = await box(t);
    const command = `i=0; while [ $i -lt 100 ]; do echo "noise line number $i with padding to be long" >&2; i=$((i+1)); done; echo LAST-LINE >&2; exit 1`;
    await assert.rejects(writeLocalIngress({ path: b.config, restartCommand: command }, NEW_INGRESS), (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      const stderr = String(err.details.stderr);
      assert.ok(stderr.length <= 2_000, `stderr is ${stderr.length} characters`);
      assert.ok(stderr.endsWith('LAST-LINE'));
      assert.ok(!err.message.includes('number 0 '));
      return true;
    });
  });

  test('an invalid ingress is refused with every problem and nothing is touched', async (t) => {
    const b = await box(t);
    const before = await stat(b.config);
    const bad: IngressRule[] = [
      { hostname: 'a.example.com:8080', service: 'http://localhost:1' },
      { hostname: 'b.example.com', service: 'http://localhost:2/path' },
    ];
    await assert.rejects(writeLocalIngress({ path: b.config, restartCommand: b.countRestart }, bad), (err: unknown) => {
      assert.ok(isError('invalid_input')(err));
      const { message, details } = err as SupervisorError;
      assert.match(message, /rule 1 \(a\.example\.com:8080\).*port/);
      assert.match(message, /rule 2 \(b\.example\.com\).*has a path/);
      assert.match(message, /rule 2 \(b\.example\.com\) is the last rule/);
      assert.equal((details.problems as string[]).length, 3);
      return true;
    });
    const after = await stat(b.config);
    assert.equal(after.ino, before.ino);
    assert.equal(after.mtimeMs, before.mtimeMs);
    assert.equal(existsSync(`${b.config}.bak`), false);
    assert.equal(await b.restarts(), 0);
  });

  test('a dry run reports the change and touches nothing', async (t) => {
    const b = await box(t);
    const result = await writeLocalIngress({ path: b.config, restartCommand: b.countRestart, dryRun: true }, NEW_INGRESS);
    assert.deepEqual(result, { changed: true, written: false, restarted: false, previous: SAMPLE_INGRESS });
    assert.equal(await readFile(b.config, 'utf8'), SAMPLE);
    assert.equal(existsSync(`${b.config}.bak`), false);
    assert.equal(await b.restarts(), 0);
  });

  test('a missing file is created (folder too), readable by others, without a backup', async (t) => {
    const b = await box(t, null);
    const path = join(b.dir, 'etc', 'cloudflared', 'config.yml');
    const result = await writeLocalIngress({ path, restartCommand: b.countRestart }, NEW_INGRESS);
    assert.deepEqual(result, { changed: true, written: true, restarted: true, previous: [] });
    assert.equal((await stat(path)).mode & 0o777, 0o644);
    assert.deepEqual(await readLocalConfig(path), { exists: true, ingress: NEW_INGRESS });
    assert.equal(existsSync(`${path}.bak`), false);
  });

  test('a missing file whose restart fails is removed again', async (t) => {
    const b = await box(t, null);
    await assert.rejects(
      writeLocalIngress({ path: b.config, restartCommand: 'echo nope >&2; exit 1' }, NEW_INGRESS),
      isError('unavailable', /code 1.*nope.*was removed/),
    );
    assert.equal(existsSync(b.config), false);
  });

  test('keeps the file mode of the original for the file and its backup', async (t) => {
    const b = await box(t);
    await chmod(b.config, 0o640);
    await writeLocalIngress({ path: b.config, restartCommand: '' }, NEW_INGRESS);
    assert.equal((await stat(b.config)).mode & 0o777, 0o640);
    assert.equal((await stat(`${b.config}.bak`)).mode & 0o777, 0o640);
  });

  test('a config.yml that is a symlink stays a symlink; its target gets the new rules', async (t) => {
    const b = await box(t);
    const link = join(b.dir, 'link.yml');
    await symlink(b.config, link);
    const result = await writeLocalIngress({ path: link, restartCommand: '' }, NEW_INGRESS);
    assert.equal(result.backupPath, `${link}.bak`);
    assert.ok((await lstat(link)).isSymbolicLink());
    assert.equal(await readlink(link), b.config);
    assert.deepEqual((await readLocalConfig(b.config)).ingress, NEW_INGRESS);
    assert.equal(await readFile(`${link}.bak`, 'utf8'), SAMPLE);
  });

  test('an empty restart command, or `true` (how a setting says none), writes without restarting and says so', async (t) => {
    for (const restartCommand of ['', 'true', ' true ']) {
      const b = await box(t);
      const result = await writeLocalIngress({ path: b.config, restartCommand }, NEW_INGRESS);
      assert.deepEqual([result.written, result.restarted], [true, false], JSON.stringify(restartCommand));
    }
  });

  test('YAML durations stay strings as written, in the file and when read back', async (t) => {
    const b = await box(t);
    const ingress: IngressRule[] = [
      { hostname: 'slow.example.com', service: 'http://localhost:5000', originRequest: { connectTimeout: '1m30s', tcpKeepAlive: '15s' } },
      ...SAMPLE_INGRESS,
    ];
    await writeLocalIngress({ path: b.config, restartCommand: '' }, ingress);
    const text = await readFile(b.config, 'utf8');
    assert.match(text, /^ {2}connectTimeout: 30s$/m);
    assert.match(text, /^ {6}connectTimeout: 1m30s$/m);
    assert.match(text, /^ {6}keepAliveTimeout: 90s$/m);
    const cfg = await readLocalConfig(b.config);
    assert.deepEqual(cfg.ingress, ingress);
    assert.equal((parse(text) as { originRequest: { connectTimeout: unknown } }).originRequest.connectTimeout, '30s');
  });

  test('refuses to rewrite a file it cannot read, leaving it alone', async (t) => {
    const b = await box(t, 'ingress:\n  - hostnme: a.example.com\n    service: hello_world\n');
    await assert.rejects(writeLocalIngress({ path: b.config, restartCommand: b.countRestart }, NEW_INGRESS), isError('invalid_input', /unknown key/));
    assert.equal(existsSync(`${b.config}.bak`), false);
    assert.equal(await b.restarts(), 0);
  });
});
