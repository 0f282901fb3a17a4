import { z } from 'zod';
import { defineSettings } from '../core/settings.js';

const positiveInt = z.coerce.number().int().positive();

export const secretSettings = defineSettings({
  masterKey: {
    env: 'SUPERVISOR_MASTER_KEY',
    schema: z.string().optional(),
    default: undefined,
    doc: 'Master key (64 hex digits or base64 of 32 bytes); unset means the 0600 key file `master.key` in the data dir, created on first start.',
    sensitive: true,
    // Not in the config file, by set_setting or by hand: a wrong or malformed key there would stop every
    // later start and command, set_setting included, and a second place for the key beside master.key.
    notSettable: 'masterKey is the key that opens every secret, so it is not a config-file setting: set SUPERVISOR_MASTER_KEY in the environment of every process that opens the database, or keep the master.key file in the data dir; `rotate_master_key` changes it',
  },
  secretMaxBytes: { env: 'SUPERVISOR_SECRET_MAX_BYTES', schema: positiveInt.max(1024 * 1024), default: 64 * 1024, doc: 'Largest secret value accepted, in bytes.' },
  secretCacheEntries: { env: 'SUPERVISOR_SECRET_CACHE_ENTRIES', schema: z.coerce.number().int().min(0).max(1_000_000), default: 10_000, doc: 'Secrets whose current row (encrypted) is kept in memory for reads without a database round trip; 0 turns the cache off.' },
  secretCacheBytes: { env: 'SUPERVISOR_SECRET_CACHE_BYTES', schema: z.coerce.number().int().min(0), default: 32 * 1024 * 1024, doc: 'Memory the secret read cache may use, in bytes.' },
  keyRotateAfter: { env: 'SUPERVISOR_KEY_ROTATE_AFTER', schema: positiveInt.max(2 ** 32 - 1), default: 1_000_000_000, doc: 'Encryptions under one data key before a new one is started automatically (GCM with random IVs must stay well below 2^32).' },
});
