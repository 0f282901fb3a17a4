/**
 * What a person typing `supervisor …` sees when the command line is wrong: exit 2,
 * the message naming the argument as the command line spells it, and the
 * command's usage line; never schema words. Per-group help, --version and
 * "did you mean". Every command of the build's manifest is tried, so a new
 * operation gets the same treatment without a new test.
 */
import { before, after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandManifest, CommandSpec } from '../../src/cli/commands.js';
import { describeCommands } from '../../src/cli/commands.js';
import { catalog } from '../../src/app.js';
import { parseOperationArgs, type Stdin } from '../../src/cli/args.js';
import { operationHelp } from '../../src/cli/help.js';
import { runCli as runInProcess } from '../../src/cli/program.js';
import { supervisorSource } from '../../src/cli/manifest.js';
import { assertCliBuilt, cliEnv, describeResult, REPO_ROOT, runCli, type CliResult } from './run-cli.js';

const kebab = (name: string) => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
const SCHEMA_WORDS = /expected (string|number|integer|boolean)|received undefined|Invalid input|[a-z][A-Z][a-z]+:/;

describe('usage errors', () => {
  let home: string;
  let env: Record<string, string>;
  let manifest: CommandManifest;
  before(async () => {
    assertCliBuilt();
    // No daemon and nothing opened: a usage error is found before any connection.
    home = await mkdtemp(join(tmpdir(), 'supervisor-usage-'));
    env = cliEnv(home);
    // What the in-process checks see (this file runs in its own process).
    process.env.SUPERVISOR_HOME = home;
    manifest = JSON.parse(await readFile(join(REPO_ROOT, 'dist', 'cli', 'commands.json'), 'utf8')) as CommandManifest;
  });
  after(() => rm(home, { recursive: true, force: true }));

  const usageOf = (cmd: CommandSpec) => `usage: supervisor ${cmd.cli.command.join(' ')}`;

  /**
   * The command line's own code in this process, for the checks of every command (hundreds of
   * them: a process each took over a minute); a usage error is found before anything is opened.
   * The tests after these run the built binary, so its exit code and streams are checked too.
   */
  async function parsed(argv: string[]): Promise<CliResult> {
    let stdout = '';
    let stderr = '';
    const code = await runInProcess(argv, supervisorSource, { write: (t) => void (stdout += t) }, { write: (t) => void (stderr += t) });
    return { code, stdout, stderr, signal: null };
  }

  test('the build manifest is the catalog as it is now (npm run build)', () => {
    assert.deepEqual(manifest, JSON.parse(JSON.stringify(describeCommands(catalog))));
  });

  test('every command with a required argument: missing → exit 2, its CLI name and the usage line', async () => {
    const checked: string[] = [];
    for (const cmd of manifest.commands) {
      const required = cmd.input.filter((f) => f.required && f.name !== cmd.cli.stdin);
      if (required.length === 0) continue;
      const first = required.find((f) => (cmd.cli.args ?? []).includes(f.name)) ?? required[0]!;
      const shown = (cmd.cli.args ?? []).includes(first.name) ? `<${(cmd.cli.files ?? []).includes(first.name) ? 'file' : kebab(first.name)}>` : `--${kebab(first.name)}`;
      const r = await parsed([...cmd.cli.command]);
      assert.equal(r.code, 2, `${cmd.cli.command.join(' ')}: ${describeResult(r)}`);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.includes(`missing ${shown.startsWith('<') ? 'argument' : 'flag'} ${shown}`), `${cmd.cli.command.join(' ')}: ${r.stderr}`);
      assert.ok(r.stderr.includes(usageOf(cmd)), r.stderr);
      assert.doesNotMatch(r.stderr, SCHEMA_WORDS);
      checked.push(cmd.name);
    }
    assert.ok(checked.length >= 20, `only ${checked.length} commands have required arguments`);
  });

  test('a missing argument is said before stdin is read or the value asked for: an open stdin that never ends does not hang the command', async () => {
    const never: Stdin = { isTTY: false, read: () => new Promise<string>(() => undefined) };
    const terminal: Stdin = { isTTY: true, read: () => assert.fail('a terminal is never read whole') };
    for (const name of ['set_secret', 'write_instruction_layer']) {
      const cmd = manifest.commands.find((c) => c.name === name)!;
      assert.ok(cmd.cli.stdin, `${name} reads stdin`);
      for (const stdin of [never, terminal]) await assert.rejects(parseOperationArgs(cmd, [], stdin), /missing argument </);
    }
  });

  test("no command's help names a flag it does not take (a field of another operation in parentheses read as one)", () => {
    const globals = ['--json', '--help', '--field', '--all', '--wide', '--input', '--version'];
    for (const cmd of manifest.commands) {
      const own = new Set([...globals, ...Object.keys(cmd.cli.flags ?? {}).map((f) => `--${kebab(f)}`), ...(cmd.cli.wait ? ['--wait'] : []), ...cmd.input.flatMap((f) => [`--${kebab(f.name)}`, `--no-${kebab(f.name)}`])]);
      // Other commands it points at, with their own flags, aside.
      const text = operationHelp(cmd, manifest.commands).replace(/`supervisor [^`]*`/g, '');
      const foreign = [...new Set([...text.matchAll(/--[a-z][a-z0-9-]*/g)].map((m) => m[0]))].filter((flag) => !own.has(flag));
      assert.deepEqual(foreign, [], cmd.cli.command.join(' '));
    }
  });

  test('every command: an unknown flag → exit 2 with the usage line', async () => {
    for (const cmd of manifest.commands) {
      const r = await parsed([...cmd.cli.command, '--bogus-flag']);
      assert.equal(r.code, 2, `${cmd.cli.command.join(' ')}: ${describeResult(r)}`);
      assert.match(r.stderr, new RegExp(`^supervisor: ${cmd.cli.command.join(' ')}: unknown flag --bogus-flag\n${usageOf(cmd).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
  });

  test('every number, switch and choice flag: a bad value → exit 2 naming the flag and what it takes', async () => {
    let checked = 0;
    for (const cmd of manifest.commands) {
      for (const field of cmd.input) {
        const flag = `--${kebab(field.name)}`;
        let words: string[];
        let message: RegExp;
        if (field.type === 'integer') [words, message] = [[flag, 'abc'], new RegExp(`${flag} must be a whole number, not "abc"`)];
        else if (field.type === 'boolean' && field.default !== true) [words, message] = [[flag, 'false'], new RegExp(`${flag} is a switch and takes no value`)];
        else if (field.enum) [words, message] = [[flag, 'nonsense'], new RegExp(`${flag} must be one of ${field.enum.join(', ')}, not "nonsense"`)];
        else continue;
        const r = await parsed([...cmd.cli.command, ...words]);
        assert.equal(r.code, 2, `${cmd.cli.command.join(' ')} ${words.join(' ')}: ${describeResult(r)}`);
        assert.match(r.stderr, message);
        assert.ok(r.stderr.includes(usageOf(cmd)), r.stderr);
        checked++;
      }
    }
    assert.ok(checked >= 30, `only ${checked} flags checked`);
  });

  test('instructions regenerate --overwrite false is refused, --overwrite=false is understood', async () => {
    const r = await runCli(['instructions', 'regenerate', 'demo', '--overwrite', 'false'], { env });
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /--overwrite is a switch and takes no value; write --overwrite or --no-overwrite \(or --overwrite=false\)/);
  });

  test('flags of which exactly one is needed are named as the command line spells them', async () => {
    const token = await runCli(['token', 'create', 'bot'], { env });
    assert.equal(token.code, 2, describeResult(token));
    assert.match(token.stderr, /^supervisor: token create: give exactly one of --project <project> or --admin\nusage: supervisor token create \[name\]/);
    const both = await runCli(['token', 'create', 'bot', '--project', 'x', '--admin'], { env });
    assert.equal(both.code, 2, describeResult(both));
    const route = await runCli(['tunnel', 'add', 'a.example.com'], { env });
    assert.equal(route.code, 2, describeResult(route));
    assert.match(route.stderr, /give exactly one of <service> or --port <n>|give exactly one of <service> or --port <port>/);
    const range = await runCli(['port', 'range', 'demo'], { env });
    assert.equal(range.code, 2, describeResult(range));
    assert.match(range.stderr, /^supervisor: port range: give exactly one of --size <size> or --range <range>/);
    assert.doesNotMatch(token.stderr + route.stderr, SCHEMA_WORDS);
    assert.doesNotMatch(token.stderr, /admin=true/);
  });

  test('secrets set refuses a value in the arguments and says how to give it', async () => {
    const r = await runCli(['secrets', 'set', 'project/x/key', 'hunter2'], { env });
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /the value is read from stdin, or asked for on a terminal; --value <value> puts it on the command line, where other users can see it/);
    assert.doesNotMatch(r.stderr, /hunter2/);
  });

  test('a field given both as an argument and in --input with another value is refused, not settled in silence', async () => {
    const r = await runCli(['secrets', 'set', 'project/x/key', '--input', JSON.stringify({ path: 'project/x/other', value: 'v' })], { env });
    assert.equal(r.code, 2, describeResult(r));
    assert.match(r.stderr, /secrets set: <path> and --input give path two different values; give it once/);
  });

  test('a folder given as a file is named as one, not by its errno code', async () => {
    const r = await parsed(['secrets', 'import', home, '--prefix', 'project/x/']);
    assert.equal(r.code, 2);
    assert.match(r.stderr, new RegExp(`^supervisor: secrets import: cannot read ${home}: it is a directory$`, 'm'));
  });

  test('--json: a usage error is one JSON document on stderr, still exit 2', async () => {
    const r = await runCli(['secrets', 'get', '--json'], { env });
    assert.equal(r.code, 2, describeResult(r));
    assert.equal(r.stdout, '');
    assert.deepEqual(JSON.parse(r.stderr), { error: { code: 'usage', message: 'secrets get: missing argument <path>', usage: 'supervisor secrets get <path> [--version <n>]' } });
  });

  test('--version and -V print the version and exit 0', async () => {
    const { version } = JSON.parse(await readFile(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag], { env });
      assert.equal(r.code, 0, describeResult(r));
      assert.equal(r.stdout, `supervisor ${version}\n`);
    }
  });

  test('a group alone or with --help lists its verbs with their arguments', async () => {
    for (const args of [['secrets'], ['secrets', '--help'], ['help', 'secrets']]) {
      const r = await runCli(args, { env });
      assert.equal(r.code, 0, describeResult(r));
      assert.match(r.stdout, /^supervisor secrets — Secrets:/);
      assert.match(r.stdout, /^ {2}set <path> +Set secret$/m);
      assert.match(r.stdout, /^ {2}import \[file\] +Import secrets from \.env$/m);
      assert.match(r.stdout, /^ {2}rollback <path> <to-version> /m);
    }
    const daemon = await runCli(['daemon', '--help'], { env });
    assert.equal(daemon.code, 0, describeResult(daemon));
    assert.match(daemon.stdout, /^ {2}status \[--field <name>\] +is the daemon running/m);
    assert.match(daemon.stdout, /^ {2}stop \[--timeout <seconds>\]/m);
  });

  test('a command help shows flag formats and the MCP tool', async () => {
    const r = await runCli(['secrets', 'set', '--help'], { env });
    assert.equal(r.code, 0, describeResult(r));
    assert.match(r.stdout, /^Usage: supervisor secrets set <path> \[--if-version <n>\] \[--description <description>\] \[--tags a,b\] \[--expires-at <time>\]/);
    assert.match(r.stdout, /The value is read from stdin \(one line loses its final newline, several lines are kept exactly\), or asked for with echo off on a terminal/);
    assert.match(r.stdout, /MCP tool: set_secret/);
    // A switch on by default is shown as its --no- flag: the help says what the flag does, not the opposite.
    const tunnel = await runCli(['tunnel', 'add', '--help'], { env });
    assert.match(tunnel.stdout, /^ {2}--no-dns +Turns off what is on by default: also create the proxied CNAME to <tunnel-id>\.cfargotunnel\.com$/m);
    const imports = await runCli(['secrets', 'import', '--help'], { env });
    assert.match(imports.stdout, /^ {2}--no-overwrite +Turns off what is on by default: replace existing values$/m);
    assert.match(tunnel.stdout, /^ {2}--force +Also change or delete records and rules the supervisor did not make$/m);
  });

  const typos: Array<[string[], RegExp]> = [
    [['secret', 'get', 'x'], /unknown command "secret"; did you mean "secrets"\?\nRun `supervisor --help` for the commands\./],
    [['secrets', 'gte', 'x'], /unknown command "secrets gte"; did you mean "secrets get"\?\nRun `supervisor secrets --help`/],
    [['prot', 'list'], /unknown command "prot"; did you mean "port"\?/],
    [['daemon', 'stauts'], /unknown command "daemon stauts"; did you mean "daemon status"\?/],
    // A group said before another command's whole name: that command is the one meant.
    [['gcloud', 'vm', 'list'], /unknown command "gcloud vm"; did you mean "vm list"\?\nRun `supervisor gcloud --help`/],
    [['daemon', 'secrets', 'list'], /unknown command "daemon secrets"; did you mean "secrets list"\?\nRun `supervisor daemon --help`/],
    [['frobnicate'], /^supervisor: unknown command "frobnicate"\nRun `supervisor --help` for the commands\.\n$/],
  ];
  for (const [args, message] of typos) {
    test(`"${args.join(' ')}" → exit 2 and ${String(message).slice(1, 40)}…`, async () => {
      const r = await runCli(args, { env });
      assert.equal(r.code, 2, describeResult(r));
      assert.match(r.stderr, message);
    });
  }

  test('mcp and run name their missing flag with their usage line', async () => {
    const mcp = await runCli(['mcp'], { env });
    assert.equal(mcp.code, 2, describeResult(mcp));
    assert.match(mcp.stderr, /missing flag --project <name>.*\nusage: supervisor mcp --project <name>/);
    const run = await runCli(['run', '--project', 'x', '--'], { env });
    assert.equal(run.code, 2, describeResult(run));
    assert.match(run.stderr, /run: missing the command to run after --\nusage: supervisor run --project <name>/);
    // A command given without -- is told where it goes, not that it is missing.
    for (const words of [['--project', 'x', 'npm', 'start'], ['project/x/', 'env']]) {
      const bare = await runCli(['run', ...words], { env });
      assert.equal(bare.code, 2, describeResult(bare));
      assert.match(bare.stderr, /run: no -- before the command to run: write it as supervisor run --project <name> -- <command> \[args\.\.\.\]\nusage: /);
    }
    const nothing = await runCli(['run'], { env });
    assert.match(nothing.stderr, /run: missing --project and the command to run/);
  });
});
