/**
 * `supervisor secrets import <file>` then `supervisor secrets export <prefix>`:
 * the import stores what the `dotenv` package reads from the file, and the .env
 * that comes out reads back through `dotenv.parse` to the same keys and values,
 * whatever quoting the original used; a second import changes nothing; empty
 * values are skipped by key, never a reason to refuse the file.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parse } from 'dotenv';
import { DOTENV_MULTILINE } from '../secrets/data/dotenv-fixtures.js';
import { describeResult, parseJson, runCli, useCliDaemon } from './run-cli.js';

/**
 * A .env in the dialect people write. Keys are upper-case [A-Z0-9_] because
 * import lower-cases a key into a path segment and export upper-cases it back:
 * only such keys come out spelled as they went in.
 */
const ENV_FILE = `# Database settings for project x
# (comments and blank lines are skipped)

export DATABASE_URL=postgres://app:s3cret@db.internal:5432/app
PLAIN=hello world   # an inline comment is dropped
export   TABBED_EXPORT=value
HASH_CUTS=abc#def
URL_QUOTED="https://example.com/page#section"
SINGLE='literal $HOME and \\n and "double" stay as written'
DOUBLE="tab\\there, newline\\nthere, backslash \\\\ dollar $ backtick \\\`"
BACKTICKS=\`it's "both" quotes\`
JSON={"a": "b", "list": [1, 2]}
UNKNOWN_ESCAPE="C:\\dir\\d+"
UNICODE="pä$$wörd 🔑"
PEM="-----BEGIN KEY-----
line two
-----END KEY-----"
SINGLE_MULTI='first line
  indented second line'
BACKTICK_MULTI=\`line "one"
line 'two'\`
WINDOWS_LINE=crlf-value\r
LAST=no trailing newline`;

/** Key → value as dotenv reads it. */
const pairsOf = (text: string) => new Map(Object.entries(parse(text)));
const ENTRIES = 16;

describe('secrets import / export round trip', () => {
  const t = useCliDaemon();

  /** Writes `content` to a file in the temp dir and returns its path. */
  async function envFile(name: string, content: string): Promise<string> {
    const path = join(t.dir, name);
    await writeFile(path, content);
    return path;
  }

  test('the file reads as intended with dotenv (guards the fixture itself)', () => {
    const pairs = pairsOf(ENV_FILE);
    assert.equal(pairs.size, ENTRIES);
    assert.equal(pairs.get('PLAIN'), 'hello world');
    assert.equal(pairs.get('HASH_CUTS'), 'abc');
    assert.equal(pairs.get('SINGLE'), 'literal $HOME and \\n and "double" stay as written');
    assert.equal(pairs.get('DOUBLE'), 'tab\\there, newline\nthere, backslash \\\\ dollar $ backtick \\`');
    assert.equal(pairs.get('BACKTICKS'), 'it\'s "both" quotes');
    assert.equal(pairs.get('UNKNOWN_ESCAPE'), 'C:\\dir\\d+');
    assert.equal(pairs.get('PEM'), '-----BEGIN KEY-----\nline two\n-----END KEY-----');
    assert.equal(pairs.get('BACKTICK_MULTI'), 'line "one"\nline \'two\'');
    assert.equal(pairs.get('WINDOWS_LINE'), 'crlf-value');
  });

  test('import then export gives back the same keys and values', async () => {
    const file = await envFile('app.env', ENV_FILE);
    const imported = await runCli(['secrets', 'import', file, '--prefix', 'project/x/', '--json'], { env: t.env });
    assert.equal(imported.code, 0, describeResult(imported));
    const report = parseJson(imported);
    assert.equal((report.created as string[]).length, ENTRIES);
    assert.ok((report.created as string[]).includes('project/x/database_url'), 'KEY becomes the lower-cased last segment');

    const exported = await runCli(['secrets', 'export', 'project/x/'], { env: t.env });
    assert.equal(exported.code, 0, describeResult(exported));
    assert.match(exported.stdout, /^# exported from project\/x\/\n/);
    assert.deepEqual(pairsOf(exported.stdout), pairsOf(ENV_FILE));
  });

  test('export then import into a fresh prefix puts every secret back at its path: dashes, dots, digits and nested folders', async () => {
    await t.daemon.services.projects.add('test', { name: 'roundtrip' });
    const paths = ['project/roundtrip/stripe-key', 'project/roundtrip/api.v2', 'project/roundtrip/2fa_seed', 'project/roundtrip/smtp/password', 'project/roundtrip/plain_key'];
    for (const [i, path] of paths.entries()) await runCli(['secrets', 'set', path], { env: t.env, stdin: `value-${i}` });
    const exported = await runCli(['secrets', 'export', 'project/roundtrip/'], { env: t.env });
    assert.equal(exported.code, 0, describeResult(exported));
    // The mapping is in comments: dotenv, and every other reader, sees only the variables.
    assert.match(exported.stdout, /^# supervisor-path STRIPE_KEY stripe-key$/m);
    assert.match(exported.stdout, /^# supervisor-path PASSWORD smtp\/password$/m);
    assert.doesNotMatch(exported.stdout, /supervisor-path PLAIN_KEY/);
    const file = await envFile('roundtrip.env', exported.stdout);
    const imported = await runCli(['secrets', 'import', file, '--prefix', 'project/restored/', '--json'], { env: t.env });
    assert.equal(imported.code, 0, describeResult(imported));
    assert.deepEqual((parseJson(imported).created as string[]).sort(), paths.map((p) => p.replace('roundtrip', 'restored')).sort());
    // Into the same prefix: every one unchanged, no twin beside it.
    const same = parseJson(await runCli(['secrets', 'import', file, '--prefix', 'project/roundtrip/', '--json'], { env: t.env }));
    assert.deepEqual([(same.unchanged as string[]).length, same.created], [paths.length, []]);
  });

  test('importing the same file again reports every entry unchanged and writes nothing', async () => {
    const file = await envFile('again.env', ENV_FILE);
    const before = parseJson(await runCli(['secrets', 'history', 'project/x/pem', '--json'], { env: t.env }));
    const again = await runCli(['secrets', 'import', file, '--prefix', 'project/x/', '--json'], { env: t.env });
    assert.equal(again.code, 0, describeResult(again));
    const report = parseJson(again);
    assert.deepEqual(report.created, []);
    assert.deepEqual(report.updated, []);
    assert.deepEqual(report.skipped, []);
    assert.equal((report.unchanged as string[]).length, ENTRIES);
    const afterHistory = parseJson(await runCli(['secrets', 'history', 'project/x/pem', '--json'], { env: t.env }));
    assert.deepEqual(afterHistory, before, 'no new versions');
  });

  test("dotenv's own fixture imports whole: the empty value is skipped by key, the rest stored as dotenv reads it", async () => {
    const file = await envFile('dotenv.env', DOTENV_MULTILINE);
    const r = await runCli(['secrets', 'import', file, '--prefix', 'project/dotenv/', '--json'], { env: t.env });
    assert.equal(r.code, 0, describeResult(r));
    const report = parseJson(r);
    assert.deepEqual(report.empty, ['EMPTY']);
    assert.ok((report.skipped as string[]).includes('project/dotenv/empty'));
    const expected = new Map([...pairsOf(DOTENV_MULTILINE)].filter(([, v]) => v !== ''));
    assert.equal((report.created as string[]).length, expected.size);

    const exported = await runCli(['secrets', 'export', 'project/dotenv/'], { env: t.env });
    assert.equal(exported.code, 0, describeResult(exported));
    assert.deepEqual(pairsOf(exported.stdout), expected);
  });

  test('keys that differ only in case (one path) are refused as duplicates, and nothing is stored', async () => {
    const file = await envFile('case.env', 'A=1\nToken=hunter2\nTOKEN=hunter3\n');
    const r = await runCli(['secrets', 'import', file, '--prefix', 'project/case-fold/'], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /^supervisor: invalid_input: content: Token and TOKEN are the same secret/);
    assert.ok(!r.stderr.includes('hunter'), 'the message does not echo values');
    const listed = parseJson(await runCli(['secrets', 'list', 'project/case-fold/', '--include-deleted', '--json'], { env: t.env }));
    assert.deepEqual(listed.items, [], 'all or nothing');
  });

  test('text with no line dotenv reads is refused, without echoing it', async () => {
    const file = await envFile('none.env', 'JUSTAKEY hunter2\n');
    const r = await runCli(['secrets', 'import', file, '--prefix', 'project/none/'], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /no KEY=value line that dotenv reads/);
    assert.ok(!r.stderr.includes('hunter2'));
  });

  const quirks: Array<{ what: string; content: string }> = [
    { what: 'a key set twice (the last wins)', content: 'A=1\nB=2\n# note\nA=3\n' },
    { what: 'an unclosed double quote (kept as text)', content: 'A=1\nB="never closed\nC=3\n' },
    { what: 'a # without a space before it', content: 'A=value#comment\n' },
  ];
  for (const [i, c] of quirks.entries()) {
    test(`a file with ${c.what} stores what dotenv reads`, async () => {
      const prefix = `project/quirk-${i}/`;
      const file = await envFile(`quirk-${i}.env`, c.content);
      const r = await runCli(['secrets', 'import', file, '--prefix', prefix], { env: t.env });
      assert.equal(r.code, 0, describeResult(r));
      const exported = await runCli(['secrets', 'export', prefix], { env: t.env });
      assert.deepEqual(pairsOf(exported.stdout), pairsOf(c.content));
    });
  }

  test('a value dotenv cannot hold is left out of the file by name; the others are written', async () => {
    const prefix = 'project/unholdable/';
    const set = await runCli(['secrets', 'set', `${prefix}weird`], { env: t.env, stdin: `'"\`\n#x` });
    assert.equal(set.code, 0, describeResult(set));
    assert.equal((await runCli(['secrets', 'set', `${prefix}fine`], { env: t.env, stdin: 'ok' })).code, 0);
    const exported = await runCli(['secrets', 'export', prefix, '--json'], { env: t.env });
    assert.equal(exported.code, 0, describeResult(exported));
    const answer = parseJson(exported);
    assert.deepEqual((answer.refused as Array<{ name: string; path: string }>).map((r) => [r.name, r.path]), [['WEIRD', `${prefix}weird`]]);
    assert.match(String(answer.content), /^# WEIRD left out: dotenv cannot read this value back exactly/m);
    assert.deepEqual(pairsOf(String(answer.content)), new Map([['FINE', 'ok']]));
  });
});
