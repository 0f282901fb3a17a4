// Counts the tests inside suites that were skipped as a whole. node never runs a skipped
// describe's body, so its tests are unknown; this runs those files again with
// SUPERVISOR_TEST_COUNT_ONLY=1 (skipReason then lets the bodies run) and a test-name
// pattern that matches nothing, so every test is registered and reported skipped without
// running — their hooks may run and fail, which is ignored here.
import { run } from 'node:test';

const NOTHING = /^\u0000never matches\u0000$/;

/** Per file, tests seen below each nesting level until their suite reports (children report before their suite). */
class Tally {
  constructor(wanted) {
    this.wanted = wanted;
    this.pending = new Map();
    this.counted = new Map();
  }

  test(file, nesting) {
    const levels = this.levels(file);
    levels[nesting] = (levels[nesting] ?? 0) + 1;
  }

  suite(file, nesting, name) {
    const levels = this.levels(file);
    let inner = 0;
    for (let n = nesting + 1; n < levels.length; n++) {
      inner += levels[n] ?? 0;
      levels[n] = 0;
    }
    const key = suiteKey(file, nesting, name);
    if (this.wanted.has(key)) this.counted.set(key, inner);
    levels[nesting] = (levels[nesting] ?? 0) + inner;
  }

  levels(file) {
    let levels = this.pending.get(file);
    if (!levels) this.pending.set(file, (levels = []));
    return levels;
  }
}

export const suiteKey = (file, nesting, name) => `${file}\u0000${nesting}\u0000${name}`;

/**
 * How many tests each skipped suite holds: a Map from suiteKey to a count, for the suites
 * whose bodies could run (a suite skipped for another reason keeps no entry).
 */
export function countSkippedTests(suites) {
  const wanted = new Set(suites.map((s) => suiteKey(s.file, s.nesting, s.name)));
  const tally = new Tally(wanted);
  process.env.SUPERVISOR_TEST_COUNT_ONLY = '1';
  const stream = run({ files: [...new Set(suites.map((s) => s.file))], testNamePatterns: [NOTHING], timeout: 2 * 60_000 });
  const seen = (t) => {
    if (!t.file) return;
    if (t.details?.type === 'suite') tally.suite(t.file, t.nesting, t.name);
    else tally.test(t.file, t.nesting);
  };
  stream.on('test:pass', seen);
  stream.on('test:fail', seen);
  stream.on('data', () => undefined);
  return new Promise((resolve) => stream.on('end', () => resolve(tally.counted)));
}
