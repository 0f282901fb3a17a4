/**
 * Holds the master-key lock of the data dir in KEY_LOCK_HOME for key-lock.test.ts:
 * says "held" over IPC and lets go at the next message (or dies holding it). Not a test file.
 */
import { MasterKeyDir } from '../../src/secrets/key-files.js';

const home = process.env.KEY_LOCK_HOME;
if (!home || !process.send) throw new Error('key-lock-holder runs as a child of key-lock.test.ts (IPC, KEY_LOCK_HOME)');

await new MasterKeyDir(home).exclusive(
  () =>
    new Promise<void>((resolve) => {
      process.once('message', () => resolve());
      process.send!('held');
    }),
);
process.disconnect();
