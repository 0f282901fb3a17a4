/**
 * The `supervisor` command line as a user runs it: help, exit codes (0 ok,
 * 1 the operation failed, 2 the command line is wrong), `--json`, values on
 * stdin, errors that name the field, and the data-dir lock without a daemon.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockDataDir } from '../../src/core/datadir.js';
import { assertCliBuilt, cliEnv, describeResult, parseJson, runCli, startCli, useCliDaemon } from './run-cli.js';

describe('supervisor CLI', () => {
  const t = useCliDaemon();

  test("a SUPERVISOR_CONFIG other than the running daemon's is said to be unused: the daemon answers from its own file", async () => {
    const other = join(t.dir, 'other-config.yaml');
    await writeFile(other, 'logLevel: error\n');
    const r = await runCli(['config', 'get', 'logLevel'], { env: { ...t.env, SUPERVISOR_CONFIG: other } });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stderr, new RegExp(`^supervisor: warning: SUPERVISOR_CONFIG names ${other.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}, but this command goes through the running daemon, which reads .*config\\.yaml$`, 'm'));
    // The daemon's own file named: nothing to say.
    const same = await runCli(['config', 'get', 'logLevel'], { env: { ...t.env, SUPERVISOR_CONFIG: join(t.daemon.home, 'config.yaml') } });
    assert.equal(same.stderr, '', describeResult(same));
  });

  describe('help', () => {
    test('--help lists every command and exits 0', async () => {
      const r = await runCli(['--help'], { env: t.env });
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /Usage: supervisor <command>/);
      assert.match(r.stdout, /secrets get <path>/);
      assert.match(r.stdout, /Exit codes: 0 ok, 1 the operation failed, 2 the command line is wrong \(a destructive command not confirmed too\)/);
      assert.equal(r.stderr, '');
    });

    test('secrets get --help shows its options, REST route and MCP tool', async () => {
      const r = await runCli(['secrets', 'get', '--help'], { env: t.env });
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /^Usage: supervisor secrets get <path> \[--version <n>\]$/m);
      assert.match(r.stdout, /--path <path>/);
      assert.match(r.stdout, /--version <n>/);
      assert.match(r.stdout, /--input <json>/);
      assert.match(r.stdout, /MCP tool: get_secret {4}REST: GET \/api\/v1\/secret/);
    });

    for (const command of ['mcp', 'run']) {
      test(`${command} --help prints help and exits 0`, async () => {
        const r = await runCli([command, '--help'], { env: t.env });
        assert.equal(r.code, 0, describeResult(r));
        assert.match(r.stdout, new RegExp(`supervisor ${command}`));
      });
    }

    test('an unknown command exits 2 and points at --help', async () => {
      const r = await runCli(['secrets', 'frobnicate'], { env: t.env });
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, /unknown command "secrets frobnicate"\nRun `supervisor secrets --help` for the commands/);
      assert.equal(r.stdout, '');
    });
  });

  describe('reading and writing secrets', () => {
    test('secrets set takes the value on stdin (out of shell history); secrets get --json returns it', async () => {
      const set = await runCli(['secrets', 'set', 'project/cli/database_url'], { env: t.env, stdin: 'postgres://u:p@db/app\n' });
      assert.equal(set.code, 0, describeResult(set));
      assert.match(set.stdout, /^created: +true$/m, 'without --json the answer is key: value lines');

      const get = await runCli(['secrets', 'get', 'project/cli/database_url', '--json'], { env: t.env });
      assert.equal(get.code, 0, describeResult(get));
      const secret = parseJson(get);
      // echo's trailing newline is dropped; the rest is the value byte for byte.
      assert.equal(secret.value, 'postgres://u:p@db/app');
      assert.equal(secret.path, 'project/cli/database_url');
      assert.equal(secret.version, 1);
      assert.equal(secret.readCount, 1);
    });

    test('flags: null clears a field that takes null; a date alone is midnight UTC', async () => {
      const path = 'project/cli/expiring';
      const set = await runCli(['secrets', 'set', path, '--expires-at', '2099-01-31', '--rotation-interval-days', '30', '--description', 'the API key'], { env: t.env, stdin: 'v1\n' });
      assert.equal(set.code, 0, describeResult(set));
      const first = parseJson(await runCli(['secrets', 'get', path, '--json'], { env: t.env }));
      assert.deepEqual([first.expiresAt, first.rotationIntervalDays, first.description], ['2099-01-31T00:00:00.000Z', 30, 'the API key']);
      const cleared = await runCli(['secrets', 'set', path, '--expires-at', 'null', '--rotation-interval-days', 'null', '--description', 'null'], { env: t.env, stdin: 'v2\n' });
      assert.equal(cleared.code, 0, describeResult(cleared));
      const second = parseJson(await runCli(['secrets', 'get', path, '--json'], { env: t.env }));
      assert.deepEqual([second.expiresAt, second.rotationIntervalDays, second.description], [null, null, null]);
      // A time without its offset is still refused: it names no single moment.
      const vague = await runCli(['secrets', 'set', path, '--expires-at', '2099-01-31T09:00:00'], { env: t.env, stdin: 'v3\n' });
      assert.equal(vague.code, 1, describeResult(vague));
      assert.match(vague.stderr, /: --expires-at: expected an ISO 8601 time/);
    });

    test('stdin: text of several lines (a PEM key) is kept exactly; bytes that are not UTF-8 are refused, nothing stored', async () => {
      const pem = '-----BEGIN PRIVATE KEY-----\nMIIBVQIBADANBgkqhkiG9w0BAQEFAASCAT8wggE7AgEAAkEA\n-----END PRIVATE KEY-----\n';
      assert.equal((await runCli(['secrets', 'set', 'project/cli/tls_key'], { env: t.env, stdin: pem })).code, 0);
      assert.equal(parseJson(await runCli(['secrets', 'get', 'project/cli/tls_key', '--json'], { env: t.env })).value, pem);

      const binary = await runCli(['secrets', 'set', 'project/cli/binary'], { env: t.env, stdin: Buffer.from([0x61, 0x62, 0xff, 0xfe, 0x63, 0x64]) });
      assert.equal(binary.code, 1, describeResult(binary));
      assert.match(binary.stderr, /invalid_input: stdin is not UTF-8 text; only text is stored \(base64-encode binary data\)/);
      assert.equal((await runCli(['secrets', 'get', 'project/cli/binary'], { env: t.env })).code, 1, 'nothing stored');
    });

    test('--json output is one JSON document for every kind of answer', async () => {
      await runCli(['secrets', 'set', 'project/cli/nested/key'], { env: t.env, stdin: 'v' });
      for (const args of [
        ['secrets', 'list', 'project/cli/', '--no-recursive'],
        ['secrets', 'history', 'project/cli/nested/key'],
        ['token', 'whoami'],
        ['keys', 'list'],
      ]) {
        const r = await runCli([...args, '--json'], { env: t.env });
        assert.equal(r.code, 0, describeResult(r));
        const parsed = parseJson(r);
        assert.equal(typeof parsed, 'object', args.join(' '));
      }
      const listed = parseJson(await runCli(['secrets', 'list', 'project/cli/', '--no-recursive', '--json'], { env: t.env }));
      assert.deepEqual(listed.folders, ['project/cli/nested/']);
    });

    test('a failed operation exits 1 with its error code on stderr and nothing on stdout', async () => {
      const r = await runCli(['secrets', 'get', 'project/cli/missing'], { env: t.env });
      assert.equal(r.code, 1, describeResult(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^supervisor: not_found: no secret at project\/cli\/missing/);
      // The way out is named as a command here, and in --json's message too (REST and MCP keep the operation's words).
      assert.match(r.stderr, /; `supervisor secrets list` shows the paths that exist\n$/);
      const json = await runCli(['secrets', 'get', 'project/cli/missing', '--json'], { env: t.env });
      assert.match(json.stderr, /`supervisor secrets list` shows the paths that exist/);
    });

    test('--input carries every field, including text the command line otherwise reads from a file', async () => {
      const r = await runCli(['secrets', 'import', '--input', JSON.stringify({ prefix: 'project/cli-input/', content: 'API_KEY=from-json\n' }), '--json'], { env: t.env });
      assert.equal(r.code, 0, describeResult(r));
      assert.deepEqual(parseJson(r).created, ['project/cli-input/api_key']);
    });

    test('token create --project prints a token starting svt_; a project that does not exist gets none', async () => {
      const typo = await runCli(['token', 'create', '--project', 'consilo'], { env: t.env });
      assert.equal(typo.code, 1, describeResult(typo));
      assert.match(typo.stderr, /not_found: no project consilo; /);
      await runCli(['project', 'add', 'consilio'], { env: t.env });
      const human = await runCli(['token', 'create', '--project', 'consilio'], { env: t.env });
      assert.equal(human.code, 0, describeResult(human));
      assert.match(human.stdout, /^token: +svt_[a-f0-9]{12}_[A-Za-z0-9_-]{43}$/m);

      const json = parseJson(await runCli(['token', 'create', 'ci-bot', '--project', 'consilio', '--json'], { env: t.env }));
      assert.equal(json.name, 'ci-bot');
      assert.equal(json.project, 'consilio');
      assert.match(String(json.token), new RegExp(`^svt_${String(json.id)}_`));
    });
  });

  describe('bad input names the field', () => {
    // Exit 1: the command line was fine, the operation refused the input.
    const refused: Array<{ what: string; args: string[]; stdin?: string; message: RegExp }> = [
      { what: 'a ../ path', args: ['secrets', 'get', 'project/cli/../meta/x'], message: /invalid input for `supervisor secrets get`: path: segment "\.\." is invalid/ },
      { what: 'a path outside the roots', args: ['secrets', 'get', '../etc/passwd'], message: /path: must start with meta\/, project\/, service\// },
      { what: 'a root in capitals', args: ['secrets', 'get', 'META/svc/api_key'], message: /path: must start with meta\/, in lowercase like every segment/ },
      { what: 'an empty segment (a//b)', args: ['secrets', 'get', 'project/cli//b'], message: /path: must not have empty segments \(a\/\/b\)/ },
      { what: 'an empty value', args: ['secrets', 'set', 'project/cli/empty'], stdin: '', message: /value: must not be empty/ },
      { what: '--limit 0', args: ['secrets', 'list', 'project/cli/', '--limit', '0'], message: /limit: must be at least 1/ },
    ];
    for (const c of refused) {
      test(`${c.what} → exit 1, invalid_input`, async () => {
        const r = await runCli(c.args, { env: t.env, stdin: c.stdin });
        assert.equal(r.code, 1, describeResult(r));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, /^supervisor: invalid_input: /);
        assert.match(r.stderr, c.message);
      });
    }
    // NUL cannot be passed in argv at all (execve strings are NUL-terminated), so it has no CLI case.

    // Exit 2: the command line itself is wrong; nothing was sent.
    const usage: Array<{ what: string; args: string[]; message: RegExp }> = [
      { what: 'an unknown option', args: ['secrets', 'get', 'project/cli/x', '--bogus'], message: /secrets get: unknown flag --bogus/ },
      { what: 'an option without its value', args: ['secrets', 'list', 'project/cli/', '--limit'], message: /--limit needs a value/ },
      { what: 'a value starting with -- (a PEM key) without =', args: ['secrets', 'set', 'project/cli/pem', '--value', '-----BEGIN PRIVATE KEY-----'], message: /^(?![\s\S]*BEGIN)[\s\S]*--value needs a value; a value that starts with -- is written --value=<value> \(one word: quote it\)/ },
      { what: '--limit abc', args: ['secrets', 'list', 'project/cli/', '--limit', 'abc'], message: /--limit must be a whole number, not "abc"/ },
      { what: 'too many arguments', args: ['secrets', 'get', 'project/cli/a', 'project/cli/b'], message: /too many arguments: "project\/cli\/b" \(expected <path>\)/ },
      { what: '--input that is not a JSON object', args: ['secrets', 'get', '--input', '[1]'], message: /--input must be a JSON object, such as '\{"name":"value"\}' \(it is an array\)/ },
      { what: '--input null', args: ['secrets', 'get', '--input', 'null'], message: /--input must be a JSON object, such as '\{"name":"value"\}' \(it is null\)/ },
      // Node's message quotes the text around the error, here the value: none of it is shown.
      { what: '--input whose JSON is broken inside a value', args: ['secrets', 'set', '--input', '{"path":"project/cli/leak","value":hunter2LEAK}'], message: /^(?![\s\S]*hunter2)[\s\S]*--input must be a JSON object \(an unexpected character\)/ },
    ];
    for (const c of usage) {
      test(`${c.what} → exit 2`, async () => {
        const r = await runCli(c.args, { env: t.env });
        assert.equal(r.code, 2, describeResult(r));
        assert.equal(r.stdout, '');
        assert.match(r.stderr, c.message);
      });
    }
  });
});

describe('supervisor CLI without a daemon', () => {
  let home: string;
  before(async () => {
    assertCliBuilt();
    home = await mkdtemp(join(tmpdir(), 'supervisor-cli-local-'));
  });
  after(() => rm(home, { recursive: true, force: true }));

  test('a second process gets a clear locked error naming the holder while the data dir is in use', async () => {
    // This test process plays the first CLI (or a daemon on the embedded database).
    const lock = await lockDataDir(home, 'test');
    try {
      const r = await runCli(['secrets', 'get', 'project/cli/x'], { env: cliEnv(home) });
      assert.equal(r.code, 1, describeResult(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^supervisor: locked: the data dir .* is in use by test \(pid (\d+), since /);
      assert.match(r.stderr, new RegExp(`\\(pid ${process.pid},`));
      assert.match(r.stderr, /wait for it to finish, or start the daemon \(`npm start`\) once it has ended/);
    } finally {
      await lock.release();
    }
  });

  test('a read on a data dir that does not exist (a mistyped SUPERVISOR_HOME) is refused, and makes nothing there; a write makes it', async () => {
    const typo = join(home, 'not-the-data-dir');
    for (const args of [['secrets', 'list'], ['run', '--project', 'x', '--', 'true']]) {
      const r = await runCli(args, { env: cliEnv(typo) });
      assert.equal(r.code, 1, describeResult(r));
      assert.match(r.stderr, /^supervisor: not_found: there is no data dir at .*not-the-data-dir, so nothing to read; is SUPERVISOR_HOME the daemon's data dir\?/);
      assert.equal(existsSync(typo), false, `${args.join(' ')} made nothing`);
    }
    const write = await runCli(['secrets', 'set', 'project/cli/first'], { env: cliEnv(typo), stdin: 'v' });
    assert.equal(write.code, 0, describeResult(write));
    assert.equal((await runCli(['secrets', 'list', '-f', 'path'], { env: cliEnv(typo) })).stdout, 'project/cli/first\n');
  });

  test('an operation refused as not configured is said once: the error, without a warning repeating it', async () => {
    const r = await runCli(['cloudflare', 'verify'], { env: cliEnv(home), timeoutMs: 120_000 });
    assert.equal(r.code, 1, describeResult(r));
    assert.deepEqual(r.stderr.trim().split('\n').map((line) => line.slice(0, line.indexOf(':', 'supervisor: '.length))), ['supervisor: not_configured'], describeResult(r));
  });

  test('--directory . is the directory the command runs in, and a/b/ is a/b, as a shell user means it', async () => {
    const here = await mkdtemp(join(tmpdir(), 'supervisor-here-'));
    try {
      const r = await runCli(['project', 'add', 'here', '--directory', '.', '--json'], { env: cliEnv(home), cwd: here, timeoutMs: 120_000 });
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(parseJson(r).directory, here);
      const moved = await runCli(['project', 'update', 'here', '--directory', 'sub/dir', '--json'], { env: cliEnv(home), cwd: here, timeoutMs: 120_000 });
      assert.equal(parseJson(moved).directory, join(here, 'sub/dir'));
      // Tab completion leaves a trailing slash on an absolute path too.
      const completed = await runCli(['project', 'update', 'here', '--directory', `${here}/sub/`, '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
      assert.equal(parseJson(completed).directory, join(here, 'sub'), describeResult(completed));
    } finally {
      await rm(here, { recursive: true, force: true });
    }
  });

  test('held by another command without the daemon: a command waits for it rather than failing at once', async () => {
    // This process plays a command that finishes soon after the second one starts.
    const lock = await lockDataDir(home, 'supervisor cli');
    const second = startCli(['secrets', 'list', '--json'], { env: cliEnv(home), timeoutMs: 120_000 });
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await lock.release();
    const r = await second.result;
    assert.equal(r.code, 0, describeResult(r));
  });

  test('held by an MCP session without the daemon: the message says to end that session before the daemon can start', async () => {
    const lock = await lockDataDir(home, 'supervisor mcp');
    try {
      const daemon = await runCli(['daemon'], { env: cliEnv(home, { SUPERVISOR_PORT: '0' }) });
      assert.equal(daemon.code, 1, describeResult(daemon));
      assert.match(daemon.stderr, new RegExp(`in use by supervisor mcp \\(pid ${process.pid}, .*\\); it is an MCP session opened without the daemon: end that Claude Code session \\(or \`kill ${process.pid}\`\\), then start the daemon again;`));
    } finally {
      await lock.release();
    }
  });
});
