/**
 * `supervisor secrets import <file>` then `supervisor secrets export <prefix>`:
 * the .env that comes out parses to the same keys and values that went in,
 * whatever quoting the original used; a second import changes nothing; a broken
 * file is refused whole, with the line named.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseEnvFile } from '../../src/secrets/envfile.js';
import { describeResult, parseJson, runCli, useCliDaemon } from './run-cli.js';

/**
 * A .env in the dialect people write. Keys are upper-case [A-Z0-9_] because
 * import lower-cases a key into a path segment and export upper-cases it back:
 * only such keys come out spelled as they went in.
 */
const ENV_FILE = `# Database settings for project x
# (comments and blank lines are skipped)

export DATABASE_URL=postgres://app:s3cret@db.internal:5432/app
PLAIN=hello world   # an inline comment after whitespace is dropped
export   TABBED_EXPORT=value
HASH_IN_VALUE=abc#def
URL_FRAGMENT=https://example.com/page#section
SINGLE='literal $HOME and \\n and "double" stay as written'
DOUBLE="tab\\there, newline\\nthere, quote \\" backslash \\\\ dollar \\$ backtick \\\`"
DOUBLE_WITH_HASH="# not a comment" # but this is
UNKNOWN_ESCAPE="C:\\dir\\d+"
UNICODE="pä$$wörd 🔑"
PEM="-----BEGIN KEY-----
line two
-----END KEY-----"
SINGLE_MULTI='first line
  indented second line'
WINDOWS_LINE=crlf-value\r
LAST=no trailing newline`;

/** Key → value, ignoring order and line numbers. */
const pairsOf = (text: string) => new Map(parseEnvFile(text).map((e) => [e.key, e.value]));
const ENTRIES = 14;

describe('secrets import / export round trip', () => {
  const t = useCliDaemon();

  /** Writes `content` to a file in the temp dir and returns its path. */
  async function envFile(name: string, content: string): Promise<string> {
    const path = join(t.dir, name);
    await writeFile(path, content);
    return path;
  }

  test('the file parses as intended (guards the fixture itself)', () => {
    const pairs = pairsOf(ENV_FILE);
    assert.equal(pairs.size, ENTRIES);
    assert.equal(pairs.get('PLAIN'), 'hello world');
    assert.equal(pairs.get('SINGLE'), 'literal $HOME and \\n and "double" stay as written');
    assert.equal(pairs.get('DOUBLE'), 'tab\there, newline\nthere, quote " backslash \\ dollar $ backtick `');
    assert.equal(pairs.get('DOUBLE_WITH_HASH'), '# not a comment');
    assert.equal(pairs.get('UNKNOWN_ESCAPE'), 'C:\\dir\\d+');
    assert.equal(pairs.get('PEM'), '-----BEGIN KEY-----\nline two\n-----END KEY-----');
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

  test('keys that differ only in case (one path) are refused as duplicates', async () => {
    const file = await envFile('case.env', 'Token=one\nTOKEN=two\n');
    const r = await runCli(['secrets', 'import', file, '--prefix', 'project/case-fold/'], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /line 2: .*TOKEN/);
  });

  test('an empty value is refused naming its key and line', async () => {
    const file = await envFile('empty.env', 'A=1\nEMPTY=\n');
    const r = await runCli(['secrets', 'import', file, '--prefix', 'project/empty-value/'], { env: t.env });
    assert.equal(r.code, 1, describeResult(r));
    assert.match(r.stderr, /EMPTY/);
    assert.match(r.stderr, /line 2/);
  });

  const broken: Array<{ what: string; content: string; message: RegExp }> = [
    { what: 'a duplicate key', content: 'A=1\nB=2\n# note\nA=3\n', message: /content: line 4: A is set twice; keep one/ },
    { what: 'an unterminated double quote', content: 'A=1\nB="never closed\nC=3\n', message: /line 2: unterminated double-quoted value for B/ },
    { what: "an unterminated single quote", content: "A=1\nB=2\nC='open\n", message: /line 3: unterminated single-quoted value for C/ },
  ];
  for (const [i, c] of broken.entries()) {
    test(`a file with ${c.what} is refused naming the line, and nothing is stored`, async () => {
      const prefix = `project/broken-${i}/`;
      const file = await envFile(`broken-${i}.env`, c.content);
      const r = await runCli(['secrets', 'import', file, '--prefix', prefix], { env: t.env });
      assert.equal(r.code, 1, describeResult(r));
      assert.equal(r.stdout, '');
      assert.match(r.stderr, /^supervisor: invalid_input: /);
      assert.match(r.stderr, c.message);
      assert.ok(!r.stderr.includes('never closed') && !r.stderr.includes("'open"), 'the message does not echo values');

      const listed = parseJson(await runCli(['secrets', 'list', prefix, '--include-deleted', '--json'], { env: t.env }));
      assert.deepEqual(listed.items, [], 'all or nothing: no entry of the file was stored');
    });
  }
});
