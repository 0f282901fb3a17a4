/**
 * Concurrent master-key rotations killed with -9 at random moments never leave a data
 * dir that cannot start or a secret that does not decrypt. A longer run, on either
 * backend: scripts/rotation-crash.ts. PostgreSQL only here: PGlite needs seconds to
 * open its data dir, twice per cycle.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { skipReason } from '../helpers/db.js';
import { crashLoop } from './rotation-crash.js';

const CYCLES = 20;

describe('master-key rotation under kill -9 [postgres]', { skip: await skipReason('postgres') }, () => {
  test(`${CYCLES} daemons killed at random moments while rotating: every restart works, every secret decrypts, no key file is left over`, { timeout: 150_000 }, async () => {
    const report = await crashLoop({ backend: 'postgres', cycles: CYCLES });
    assert.deepEqual(report.problems, []);
    assert.equal(report.cycles.length, CYCLES);
    // The loop proves something only if kills do land inside rotations.
    assert.ok(report.cycles.some((c) => c.rotationCut), 'no kill landed inside a master-key rotation');
  });
});
