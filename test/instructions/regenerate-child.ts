// Runs regenerateInstructions in its own process and prints the report as JSON. The failure
// tests start it as an unprivileged user when they run as root, since root reads and writes
// through any permission bits.
import { ManualClock } from '../../src/core/clock.js';
import { KeyedLock } from '../../src/core/keyed-lock.js';
import type { InstructionProject } from '../../src/instructions/assemble.js';
import { regenerateInstructions } from '../../src/instructions/regenerate.js';
import { factsFor, MemoryWrittenBlocks } from './fixture.js';

const { root, projects } = JSON.parse(process.argv[2]!) as { root: string; projects: InstructionProject[] };
const report = await regenerateInstructions({ root, clock: new ManualClock(), lock: new KeyedLock(), facts: async (p) => factsFor(p.name), blocks: new MemoryWrittenBlocks() }, projects);
process.stdout.write(JSON.stringify(report));
