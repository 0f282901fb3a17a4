// The kill -9 loop of test/secrets/rotation-crash.test.ts, longer, by hand: a daemon
// process runs three master-key rotations, a data-key rotation and a write at once,
// over and over, and is killed with SIGKILL at a random moment; after each kill a start
// must work, every secret must decrypt and no key file may be left over.
// Usage: node --import tsx scripts/rotation-crash.ts [--cycles 200] [--backend postgres|pglite]
// PostgreSQL is TEST_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test), in a
// schema of its own; PGlite lives in the temp data dir (slower: it opens twice per cycle).
// Prints a line per cycle and a summary; exits 1 at the first problem.
import { parseArgs } from 'node:util';
import type { Backend } from '../test/helpers/db.js';
import { crashLoop } from '../test/secrets/rotation-crash.js';

const { values } = parseArgs({ options: { cycles: { type: 'string', default: '200' }, backend: { type: 'string', default: 'postgres' } } });
const cycles = Number(values.cycles);
const backend = values.backend as Backend;
if (!Number.isInteger(cycles) || cycles < 1 || !['postgres', 'pglite'].includes(backend)) {
  console.error('usage: node --import tsx scripts/rotation-crash.ts [--cycles n] [--backend postgres|pglite]');
  process.exit(2);
}

const started = Date.now();
const report = await crashLoop({
  backend,
  cycles,
  onCycle: (c) =>
    console.log(`cycle ${c.cycle}: killed ${c.killedEarly ? 'during its start' : 'while rotating'}${c.rotationCut ? ', a master-key rotation cut short' : ''}; restarted, ${c.versions} versions under ${c.dataKeys} data keys decrypt`),
});
const cut = report.cycles.filter((c) => c.rotationCut).length;
console.log(`${report.cycles.length} cycles in ${Math.round((Date.now() - started) / 1000)} s on ${backend}, ${cut} with a master-key rotation cut short`);
for (const problem of report.problems) console.error(`problem: ${problem}`);
process.exitCode = report.problems.length > 0 ? 1 : 0;
