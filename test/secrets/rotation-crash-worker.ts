/**
 * One daemon of the kill -9 loop (rotation-crash.ts): says "loaded", and on "go"
 * starts its keyring on the data dir and database in CRASH_TARGET (the start that
 * must recover from the previous kill), says "ready" and runs three master-key
 * rotations, a data-key rotation and a write at once, again and again, until it is
 * killed. Any call that fails is reported. Only the keyring and the secrets service
 * are loaded: the loop spawns one of these per cycle. Not a test file.
 */
import { adminPrincipal } from '../../src/core/principal.js';
import { AuditLog } from '../../src/core/audit.js';
import { systemClock } from '../../src/core/clock.js';
import { SupervisorError } from '../../src/core/errors.js';
import { createLogger } from '../../src/core/log.js';
import { Keyring } from '../../src/secrets/keyring.js';
import { loadMasterKeys } from '../../src/secrets/master-key.js';
import { ReadTracker } from '../../src/secrets/read-tracker.js';
import { SecretsService } from '../../src/secrets/service.js';
import { openTarget, PATHS, type CrashTarget } from './rotation-crash-target.js';

if (!process.env.CRASH_TARGET || !process.send) throw new Error('rotation-crash-worker runs as a child of rotation-crash.ts (IPC, CRASH_TARGET)');
const target = JSON.parse(process.env.CRASH_TARGET) as CrashTarget;
const send = (message: string | { error: string }) => process.send!(message);
const admin = adminPrincipal('rotation-crash-worker');
const describe = (err: unknown) => (err instanceof SupervisorError ? `${err.code}: ${err.message}` : String(err));

async function run(): Promise<void> {
  const db = await openTarget(target);
  const audit = new AuditLog(db, systemClock);
  const keyring = new Keyring(db, await loadMasterKeys(target.home, undefined), systemClock, 1_000_000, audit);
  await keyring.init();
  const secrets = new SecretsService({ db, keyring, clock: systemClock, audit, reads: new ReadTracker(db, createLogger('silent')), maxValueBytes: 1024, projects: { get: () => Promise.reject(new Error('this worker gives no grants')), hold: () => Promise.reject(new Error('this worker gives no grants')) } });
  send('ready');
  for (let round = 0; ; round++) {
    const path = PATHS[round % PATHS.length]!;
    const settled = await Promise.allSettled([
      keyring.rotateMasterKey('test-admin'),
      keyring.rotateMasterKey('test-admin'),
      keyring.rotateMasterKey('test-admin'),
      keyring.rotateDataKey('test-admin'),
      secrets.set(admin, { path, value: `${path} by ${process.pid}, round ${round}` }),
    ]);
    for (const outcome of settled) if (outcome.status === 'rejected') send({ error: describe(outcome.reason) });
  }
}

process.once('message', () => {
  run().catch((err: unknown) => {
    send({ error: `start failed: ${describe(err)}` });
    process.exitCode = 1;
    process.disconnect();
  });
});
send('loaded');
