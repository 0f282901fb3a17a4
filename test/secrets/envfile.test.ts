/**
 * `.env` as the dotenv package reads it: import is `dotenv.parse`, and every
 * file export writes reads back through `dotenv.parse` (its default parser and
 * its `fast` one) to exactly the stored values, or leaves the value out by name.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'dotenv';
import { parseEnvFile, formatEnvFile, quoteEnvValue } from '../../src/secrets/envfile.js';
import { SupervisorError } from '../../src/core/errors.js';
import { DOTENV_BASIC, DOTENV_MULTILINE } from './data/dotenv-fixtures.js';

const BT = '`';

/** What both of dotenv's parsers read from `text`; they must agree. */
function dotenvReads(text: string): Record<string, string> {
  const regex = parse(text);
  assert.deepEqual(parse(text, { fast: true }), regex, `dotenv's two parsers disagree on:\n${text}`);
  return regex;
}

const asObject = (entries: Array<{ key: string; value: string }>) => Object.fromEntries(entries.map((e) => [e.key, e.value]));

describe('parseEnvFile reads what dotenv reads', () => {
  for (const [name, text] of [['tests/.env', DOTENV_BASIC], ['tests/.env-multiline', DOTENV_MULTILINE]] as const) {
    test(`dotenv's fixture ${name}, key by key`, () => {
      const ours = parseEnvFile(text);
      const theirs = parse(text);
      assert.deepEqual(ours.map((e) => e.key), Object.keys(theirs));
      for (const { key, value } of ours) assert.equal(value, theirs[key], key);
      assert.equal(asObject(ours).EMPTY, '', 'an empty value is read, not an error');
    });
  }

  test('the cases the old parser got wrong', () => {
    const text = [
      'EMPTY=',
      `BACKTICKS=${BT}it's "quoted"${BT}`,
      'HASH=a#number',
      `MULTI=${BT}line one`,
      `line "two"${BT}`,
      'LAST=1',
    ].join('\n');
    assert.deepEqual(asObject(parseEnvFile(text)), {
      EMPTY: '',
      BACKTICKS: `it's "quoted"`,
      HASH: 'a',
      MULTI: 'line one\nline "two"',
      LAST: '1',
    });
  });

  test('a key set twice keeps the last value, in the place of the first', () => {
    assert.deepEqual(parseEnvFile('A=1\nB=2\nA=3\n'), [{ key: 'A', value: '3' }, { key: 'B', value: '2' }]);
  });

  test('an empty file and a file of comments give no entries', () => {
    assert.deepEqual(parseEnvFile(''), []);
    assert.deepEqual(parseEnvFile('# only\n\n# comments\n'), []);
  });
});

/** Values people store that a naive export gets wrong, one per kind of trouble. */
const TRICKY = [
  'plain', 'two words', ' leading space', 'trailing space ', 'say "hi"', "it's", `back${BT}tick${BT}`,
  'back\\slash', 'C:\\dir\\', 'literal \\n not a newline', 'real\nnewline', 'tab\there', '$HOME and ${VAR}',
  '{"json": {"nested": [1, "two"]}}', `{"a":"it's ${BT}x${BT}"}`, '#starts-with-hash', 'has #comment',
  'ends-with-hash#', '-----BEGIN KEY-----\nabc\n-----END KEY-----\n', '"wrapped"', "'wrapped'", 'é日本😀',
  'crlf\r\nline', 'a=b=c', '\\"escaped\\"',
];

describe('formatEnvFile writes what dotenv reads back', () => {
  test('every tricky value comes back exactly from dotenv.parse', () => {
    const entries = TRICKY.map((value, i) => ({ key: `V${i}`, value }));
    const { content, refused } = formatEnvFile(entries, 'exported from project/x/');
    assert.deepEqual(refused, []);
    assert.deepEqual(dotenvReads(content), asObject(entries), content);
  });

  test('picks the plainest quoting that holds the value', () => {
    assert.equal(quoteEnvValue('postgres://u@h:5432/db'), 'postgres://u@h:5432/db');
    assert.equal(quoteEnvValue('two words'), "'two words'");
    assert.equal(quoteEnvValue('say "hi" $x \\n'), `'say "hi" $x \\n'`);
    assert.equal(quoteEnvValue("it's\nnew"), `"it's\\nnew"`);
    assert.equal(quoteEnvValue(`"it's"\n`), `${BT}"it's"\n${BT}`);
    assert.equal(quoteEnvValue('C:\\dir\\'), 'C:\\dir\\');
  });

  test('a value no dotenv quoting holds is left out by name, with a comment, and the rest is written', () => {
    const impossible = `'"${BT}\n#hunter2`;
    const { content, refused } = formatEnvFile([{ key: 'OK', value: 'fine value' }, { key: 'BAD', value: impossible }, { key: 'CR', value: '"\r#hunter2' }]);
    assert.deepEqual(refused.map((r) => r.key), ['BAD', 'CR']);
    assert.match(refused[0]!.reason, /all three quote characters/);
    assert.match(refused[1]!.reason, /carriage return/);
    assert.ok(!content.includes('hunter2') && !JSON.stringify(refused).includes('hunter2'), 'the refused values never appear');
    assert.match(content, /^# BAD left out: dotenv cannot read this value back exactly/m);
    assert.deepEqual(dotenvReads(content), { OK: 'fine value' });
  });

  test('a quoted value ending in a backslash would swallow its closing quote, so it is written bare or not at all', () => {
    assert.deepEqual(parse('A="x #\\"\nB=" #y"\n'), { A: 'x #\\"\nB=' }, 'why: dotenv reads on into the next line');
    assert.equal(quoteEnvValue('C:\\dir\\'), 'C:\\dir\\');
    assert.equal(quoteEnvValue('x #\\'), undefined);
  });

  test('writes a header as comment lines, whatever line breaks it has', () => {
    assert.equal(formatEnvFile([{ key: 'A', value: '1' }], 'exported\n\r\nby\u2028X=1').content, '# exported\n#\n# by\n# X=1\nA=1\n');
    assert.equal(formatEnvFile([]).content, '');
  });

  test('rejects invalid and repeated keys by name', () => {
    for (const key of ['', '1A', 'A B', 'A=B', 'ключ']) {
      assert.throws(
        () => formatEnvFile([{ key, value: 'hunter2' }]),
        (err: unknown) => err instanceof SupervisorError && err.code === 'invalid_input' && err.message.includes(JSON.stringify(key)) && !err.message.includes('hunter2'),
      );
    }
    assert.throws(() => formatEnvFile([{ key: 'A', value: '1' }, { key: 'A', value: '2' }]), /A is given twice/);
  });
});

/** mulberry32: tiny seeded PRNG so failures reproduce. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Pieces chosen to hit every rule of dotenv's: all quote kinds, near-escapes,
// comment markers, whitespace of each kind, line endings and what looks like
// the next entry after one, non-ASCII and astral characters.
const PIECES = [
  "'a'\u2028", 'a', 'Z', '0', '_', '.', '/', ':', '@', '+', ',', '-', 'abc', 'x9',
  '"', "'", BT, '\\', '\\n', '\\r', '\\"', "\\'", `\\${BT}`, '\\\\', '$', '${HOME}', '$(id)', '#', ' #', ' # c', '=',
  ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\n', '\nB=2', '\nexport C=3', "\n' #", '\n" #', `\n${BT} #`,
  'é', 'ß', '日本', '😀', '👩‍💻', '\u2028', '\u2029', '\u00a0', '\ufeff', '\v', '\f', '\x01', '\uffff',
];

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** Any UTF-16 code unit but NUL, lone surrogates included: values are arbitrary JS strings. */
function genValue(rand: () => number): string {
  let value = '';
  const n = 1 + Math.floor(rand() * 9);
  for (let i = 0; i < n; i++) value += rand() < 0.1 ? String.fromCharCode(1 + Math.floor(rand() * 0xfffe)) : pick(rand, PIECES);
  return value;
}

/** Every way dotenv has to write a value; a refused value must fail them all. */
function everyQuoting(value: string): string[] {
  return [value, `'${value}'`, `"${value}"`, `"${value.replace(/\n/g, '\\n').replace(/\r/g, '\\r')}"`, `${BT}${value}${BT}`];
}

/**
 * Whether dotenv reads `value` back when written as `q`, alone and before each
 * worst neighbour: a line whose quote is followed by a comment, where a value
 * that opens a quote it does not close (or closes after a backslash) would end.
 */
function holdsBesideAny(value: string, q: string): boolean {
  const neighbours = ['', ...[...`'"${BT}`].map((quote) => `N=${quote} #x${quote}\n`)];
  return neighbours.every((next) => parse(`K=${q}\n${next}`).K === value);
}

describe('property: random values through export and dotenv.parse', () => {
  test('every value written comes back exactly; every value left out has no quoting that holds it', () => {
    const rand = mulberry32(Number(process.env.SEED ?? 0x5eed));
    let written = 0;
    let left = 0;
    for (let file = 0; file < 3000; file++) {
      const entries = Array.from({ length: 1 + Math.floor(rand() * 10) }, (_, i) => ({ key: `K${i}`, value: genValue(rand) }));
      const { content, refused } = formatEnvFile(entries, rand() < 0.3 ? `file ${file}\nline two # "x"` : undefined);
      const out = new Set(refused.map((r) => r.key));
      const expected = asObject(entries.filter((e) => !out.has(e.key)));
      assert.deepEqual(dotenvReads(content), expected, `file ${file}:\n${content}`);
      for (const e of entries.filter((x) => out.has(x.key))) {
        for (const q of everyQuoting(e.value)) assert.ok(!holdsBesideAny(e.value, q), `file ${file}: ${JSON.stringify(e.value)} could be written as ${JSON.stringify(q)}`);
      }
      written += entries.length - out.size;
      left += out.size;
    }
    assert.ok(written > 12000, `only ${written} values written`);
    assert.ok(left < written / 10, `${left} values left out against ${written} written: the quoting gives up too often`);
  });
});
