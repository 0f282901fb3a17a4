// Runs every test file under test/ with node's test runner (TypeScript via tsx),
// prints the spec report, and ends with one plain line "N passed, N failed[, N skipped]"
// that CI reads. Child processes inherit this process's `--import tsx`.
// Usage: node --import tsx scripts/test.mjs [file or folder filter ...]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { run } from 'node:test';
import { spec } from 'node:test/reporters';
import { availableParallelism } from 'node:os';
import { countSkippedTests, suiteKey } from './count-skipped.mjs';

function findTests(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === 'node_modules' || name === 'fakes') continue;
    if (statSync(full).isDirectory()) out.push(...findTests(full));
    else if (name.endsWith('.test.ts')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
// A filter naming a file runs that file even if it is not a *.test.ts under test/ (the runner's own fixtures).
const named = filters.filter((f) => f.endsWith('.ts') && existsSync(f) && statSync(f).isFile());
const files = [...new Set([...named, ...findTests('test').filter((f) => filters.length === 0 || filters.some((p) => relative('.', f).includes(p)))])].sort();
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}

const counts = { passed: 0, failed: 0, skipped: 0 };
/** Suites skipped as a whole (a backend that is not reachable): node never runs their body; count-skipped.mjs counts their tests after the run. */
const skippedSuites = [];
const stream = run({
  files,
  concurrency: Math.max(2, availableParallelism()),
  // Generous: the parity suite calls every operation three ways, and a loaded 2-core machine is slow.
  timeout: 10 * 60_000,
});
stream.on('test:pass', (t) => {
  if (t.details?.type === 'suite') {
    if (t.skip) skippedSuites.push({ file: t.file, nesting: t.nesting, name: t.name, reason: typeof t.skip === 'string' ? t.skip : undefined });
    return;
  }
  if (t.skip || t.todo) counts.skipped++;
  else counts.passed++;
});
stream.on('test:fail', (t) => {
  if (t.details?.type === 'suite' && !isFileLevelFailure(t)) return;
  // node's runner does not count a failing todo as a failure; neither do we.
  if (t.todo) counts.skipped++;
  else counts.failed++;
});
// A file that fails to load reports one failure at nesting 0 with no subtests counted.
function isFileLevelFailure(t) {
  return t.nesting === 0 && t.details?.error?.failureType === 'testCodeFailure';
}
stream.compose(spec).pipe(process.stdout);
stream.on('end', async () => {
  // Every test of a suite skipped as a whole is counted (and the suite named), so a summary never hides one.
  const inSkipped = skippedSuites.length > 0 ? await countSkippedTests(skippedSuites) : new Map();
  const named = skippedSuites.map((s) => {
    const n = inSkipped.get(suiteKey(s.file, s.nesting, s.name));
    return `${s.name} (${n === undefined ? 'tests not counted' : `${n} tests`}${s.reason ? `: ${s.reason}` : ''})`;
  });
  const skippedTotal = counts.skipped + skippedSuites.reduce((n, s) => n + (inSkipped.get(suiteKey(s.file, s.nesting, s.name)) ?? 1), 0);
  const skipped = skippedTotal ? `, ${skippedTotal} skipped` : '';
  // Printed after the spec reporter drains so it is the last line.
  setImmediate(() => {
    if (named.length > 0) process.stdout.write(`\nskipped whole suites: ${named.join('; ')}\n`);
    process.stdout.write(`\n${counts.passed} passed, ${counts.failed} failed${skipped}\n`);
    process.exitCode = counts.failed > 0 ? 1 : 0;
  });
});
