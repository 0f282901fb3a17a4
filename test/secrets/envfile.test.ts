import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { parseEnvFile, formatEnvFile } from '../../src/secrets/envfile.js';
import { SupervisorError } from '../../src/core/errors.js';

/** Keys and values only, for comparing against hand-written expectations. */
function pairs(text: string): Array<[string, string]> {
  return parseEnvFile(text).map((e) => [e.key, e.value]);
}

/** Asserts an invalid_input error naming `line` and containing `fragment`, which must not leak `secret`. */
function assertParseError(text: string, line: number, fragment: string, secret: string): void {
  assert.throws(
    () => parseEnvFile(text),
    (err: unknown) => {
      assert.ok(err instanceof SupervisorError);
      assert.equal(err.code, 'invalid_input');
      assert.match(err.message, new RegExp(`^line ${line}: `));
      assert.ok(err.message.includes(fragment), err.message);
      assert.ok(!err.message.includes(secret), `message leaks the value: ${err.message}`);
      assert.ok(!JSON.stringify(err.details).includes(secret), 'details leak the value');
      return true;
    },
  );
}

describe('parseEnvFile', () => {
  test('skips blank and comment lines and reports each key line', () => {
    const text = '# header\n\n   # indented comment\nA=1\n\t\nB=2\n';
    assert.deepEqual(parseEnvFile(text), [
      { key: 'A', value: '1', line: 4 },
      { key: 'B', value: '2', line: 6 },
    ]);
  });

  test('accepts an export prefix with spaces or tabs, and a key named export', () => {
    assert.deepEqual(pairs('export A=1\nexport \t B=2\nexport=3\nexport.x=4\n  C=5'), [
      ['A', '1'], ['B', '2'], ['export', '3'], ['export.x', '4'], ['C', '5'],
    ]);
  });

  test('allows whitespace around = and dots and dashes in keys', () => {
    assert.deepEqual(pairs('A = b\nB\t=\tc d  \n_a.b-c=x'), [['A', 'b'], ['B', 'c d'], ['_a.b-c', 'x']]);
  });

  test('drops inline comments only after whitespace', () => {
    assert.deepEqual(pairs('A=b # note\nB=b#c\nC=http://h/#frag\nD= #only comment\nE=#notcomment\nF=x\t# tab'), [
      ['A', 'b'], ['B', 'b#c'], ['C', 'http://h/#frag'], ['D', ''], ['E', '#notcomment'], ['F', 'x'],
    ]);
  });

  test('reads empty values', () => {
    assert.deepEqual(pairs('A=\nB=""\nC=\'\'\nD=   \nE= # c'), [['A', ''], ['B', ''], ['C', ''], ['D', ''], ['E', '']]);
  });

  test('keeps quotes that are not at the start of a bare value', () => {
    assert.deepEqual(pairs('A=it\'s "ok"'), [['A', 'it\'s "ok"']]);
  });

  test('single-quoted values are literal and may span lines', () => {
    const text = "A='x\\ny $HOME \"q\" # not comment'\nB='line1\nline2\n  line3' # trailing\nC=after";
    assert.deepEqual(parseEnvFile(text), [
      { key: 'A', value: 'x\\ny $HOME "q" # not comment', line: 1 },
      { key: 'B', value: 'line1\nline2\n  line3', line: 2 },
      { key: 'C', value: 'after', line: 5 },
    ]);
  });

  test('double-quoted values decode escapes and may span lines', () => {
    const text = 'A="a\\nb\\rc\\td\\"e\\\\f\\$g\\`h"\nB="first\n  second \\"x\\"\n"  # c\nC=z';
    assert.deepEqual(parseEnvFile(text), [
      { key: 'A', value: 'a\nb\rc\td"e\\f$g`h', line: 1 },
      { key: 'B', value: 'first\n  second "x"\n', line: 2 },
      { key: 'C', value: 'z', line: 5 },
    ]);
  });

  test('double-quoted values keep unknown escapes with their backslash', () => {
    assert.deepEqual(pairs('RE="^\\d+\\.\\w$"\nWIN="C:\\Users\\x"\nQ="#\' inside"'), [
      ['RE', '^\\d+\\.\\w$'], ['WIN', 'C:\\Users\\x'], ['Q', "#' inside"],
    ]);
    // A backslash before a line break is not a continuation here: it is kept like any unknown escape.
    assert.deepEqual(pairs('A="x\\\ny"'), [['A', 'x\\\ny']]);
  });

  test('accepts CRLF line endings, including inside quoted values', () => {
    const text = '# c\r\nA=1\r\nB = two words \r\nC="x\r\ny"\r\nD=\'p\r\nq\'\r\n';
    assert.deepEqual(parseEnvFile(text), [
      { key: 'A', value: '1', line: 2 },
      { key: 'B', value: 'two words', line: 3 },
      { key: 'C', value: 'x\ny', line: 4 },
      { key: 'D', value: 'p\nq', line: 6 },
    ]);
  });

  test('returns duplicate keys in file order', () => {
    assert.deepEqual(pairs('A=1\nB=2\nA=3'), [['A', '1'], ['B', '2'], ['A', '3']]);
  });

  test('handles a file without a trailing newline and an empty file', () => {
    assert.deepEqual(pairs('A="x"'), [['A', 'x']]);
    assert.deepEqual(parseEnvFile(''), []);
  });
});

describe('parseEnvFile errors', () => {
  test('unterminated double-quoted value names the key and its first line', () => {
    assertParseError('A=1\n\nDB_URL="postgres://u:hunter2@h/db\nmore', 3, 'unterminated double-quoted value for DB_URL', 'hunter2');
  });

  test('an escaped closing quote leaves the value unterminated', () => {
    assertParseError('TOKEN="hunter2\\"', 1, 'unterminated double-quoted value for TOKEN', 'hunter2');
  });

  test('unterminated single-quoted value', () => {
    assertParseError("# c\nPW='hunter2\n", 2, 'unterminated single-quoted value for PW', 'hunter2');
  });

  test('a line without = is rejected without echoing it', () => {
    assertParseError('A=1\nJUSTAKEY hunter2', 2, 'expected KEY=value', 'hunter2');
    assertParseError('export LONELY', 1, 'expected KEY=value', 'LONELY');
  });

  test('a bad key is rejected without echoing the line', () => {
    assertParseError('1BAD=hunter2', 1, 'invalid key name', 'hunter2');
    assertParseError('A=1\nDB URL hunter2=x', 2, 'invalid key name', 'hunter2');
    assertParseError('=hunter2', 1, 'invalid key name', 'hunter2');
  });

  test('garbage after a closing quote names the line of the quote', () => {
    assertParseError('A="hunter2" trailing', 1, 'after the closing quote of A', 'hunter2');
    assertParseError("A='x\nhunter2'junk", 2, 'after the closing quote of A', 'hunter2');
    assertParseError('A="hunter2"#glued', 1, 'after the closing quote of A', 'hunter2');
  });
});

describe('formatEnvFile', () => {
  test('writes safe values bare and everything else double-quoted', () => {
    const out = formatEnvFile([
      { key: 'A', value: 'postgres://u@h:5432/db,x+y-z.q_r' },
      { key: 'B', value: '' },
      { key: 'C', value: 'two words' },
      { key: 'D', value: 'a\\b"c$d`e\nf\rg\th' },
      { key: 'E', value: "#it's" },
    ]);
    assert.equal(
      out,
      'A=postgres://u@h:5432/db,x+y-z.q_r\nB=""\nC="two words"\nD="a\\\\b\\"c\\$d\\`e\\nf\\rg\\th"\nE="#it\'s"\n',
    );
  });

  test('writes a header as comment lines', () => {
    assert.equal(formatEnvFile([{ key: 'A', value: '1' }], 'exported\n\r\nby supervisor'), '# exported\n#\n# by supervisor\nA=1\n');
    assert.equal(formatEnvFile([]), '');
  });

  test('rejects invalid keys by name', () => {
    for (const key of ['', '1A', 'A B', 'A=B', 'ключ']) {
      assert.throws(
        () => formatEnvFile([{ key, value: 'hunter2' }]),
        (err: unknown) =>
          err instanceof SupervisorError &&
          err.code === 'invalid_input' &&
          err.message.includes(JSON.stringify(key)) &&
          !err.message.includes('hunter2'),
      );
    }
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

// Pieces chosen to hit every rule: all quote kinds, escapes and near-escapes,
// comment markers, whitespace of each kind, line endings, non-ASCII and astral characters.
const PIECES = [
  'a', 'Z', '0', '_', '.', '/', ':', '@', '+', ',', '-', 'abc', 'x9',
  '"', "'", '`', '\\', '\\n', '\\"', '\\\\', '$', '${HOME}', '$(id)', '#', ' #', ' # c', '=',
  ' ', '  ', '\t', '\n', '\r', '\r\n', '\n\n', 'é', 'ß', '日本', '😀', '👩‍💻', '\u2028', '\u00a0', '\v', '\x01', '\uffff',
];
const KEY_FIRST = 'ABCXYZabcxyz_';
const KEY_REST = `${KEY_FIRST}0189.-`;

function pick<T>(rand: () => number, items: readonly T[]): T {
  return items[Math.floor(rand() * items.length)] as T;
}

/** Any UTF-16 code unit but NUL, lone surrogates included: values are arbitrary JS strings. */
function randomCodeUnit(rand: () => number): string {
  return String.fromCharCode(1 + Math.floor(rand() * 0xfffe));
}

function genValue(rand: () => number): string {
  let value = '';
  const n = Math.floor(rand() * 10);
  for (let i = 0; i < n; i++) value += rand() < 0.1 ? randomCodeUnit(rand) : pick(rand, PIECES);
  return value;
}

function genKey(rand: () => number): string {
  if (rand() < 0.05) return pick(rand, ['export', 'export.x', 'export-1']);
  let key = pick(rand, [...KEY_FIRST]);
  const n = Math.floor(rand() * 8);
  for (let i = 0; i < n; i++) key += pick(rand, [...KEY_REST]);
  return key;
}

describe('round trip', () => {
  test('parseEnvFile(formatEnvFile(x)) returns x for generated keys and values', () => {
    const rand = mulberry32(0x5eed);
    let checked = 0;
    for (let file = 0; file < 500; file++) {
      const entries = Array.from({ length: 1 + Math.floor(rand() * 12) }, () => ({ key: genKey(rand), value: genValue(rand) }));
      const header = rand() < 0.3 ? `generated ${file}\nline two # "x"` : undefined;
      const text = formatEnvFile(entries, header);
      const parsed = parseEnvFile(text);
      const headerLines = header === undefined ? 0 : 2;
      assert.deepEqual(
        parsed,
        entries.map((e, i) => ({ ...e, line: headerLines + i + 1 })),
        `seed file ${file}:\n${text}`,
      );
      checked += entries.length;
    }
    assert.ok(checked > 3000, `only ${checked} values checked`);
  });

  test('generated values include both bare and quoted forms', () => {
    const rand = mulberry32(42);
    const lines = formatEnvFile(Array.from({ length: 400 }, () => ({ key: 'K', value: genValue(rand) }))).split('\n');
    assert.ok(lines.some((l) => l.startsWith('K=') && !l.startsWith('K="') && l !== 'K='));
    assert.ok(lines.some((l) => l.startsWith('K="')));
  });
});
