import { z } from 'zod';
import { defineOperation, READ, WRITE } from '../catalog/operation.js';
import { pageArray, pageInput, pageOutput } from '../core/page.js';

const keys = 'keys';

export const keyOperations = [
  defineOperation({
    name: 'rotate_data_key',
    title: 'Rotate data key',
    description: 'Start a new data key for new secret writes; existing versions keep decrypting with their old key. Admin only.',
    domain: keys,
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/keys/rotate-data' },
    cli: { command: ['keys', 'rotate-data'] },
    input: z.object({}),
    output: z.object({ activeKeyId: z.number().int(), retiredKeyId: z.number().int().nullable() }),
    handler: ({ services }) => services.keyring.rotateDataKey(),
  }),
  defineOperation({
    name: 'rotate_master_key',
    title: 'Rotate master key',
    description: 'Generate a new master key and rewrap every data key with it (secrets themselves are not re-encrypted). Works with the master.key file, not SUPERVISOR_MASTER_KEY. Back up the data dir first. Admin only.',
    domain: keys,
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/keys/rotate-master' },
    cli: { command: ['keys', 'rotate-master'] },
    input: z.object({}),
    output: z.object({ masterKeyId: z.string().describe('Fingerprint of the new master key (not the key)'), rewrapped: z.number().int() }),
    handler: ({ services }) => services.keyring.rotateMasterKey(),
  }),
  defineOperation({
    name: 'list_keys',
    title: 'List data keys',
    description: 'List data keys with their status and how many encryptions each has done (never key material). Admin only.',
    domain: keys,
    access: 'admin',
    annotations: READ,
    rest: { method: 'GET', path: '/keys' },
    cli: { command: ['keys', 'list'] },
    input: z.object({ ...pageInput }),
    output: z.object({
      items: z.array(z.object({ id: z.number().int(), status: z.enum(['active', 'retired']), encryptions: z.number().int(), masterKeyId: z.string(), createdAt: z.string(), retiredAt: z.string().nullable() })),
      ...pageOutput,
    }),
    // Zero-padded so string order is id order.
    handler: async ({ services }, input) => pageArray(await services.keyring.list(), input, (k) => String(k.id).padStart(10, '0')),
  }),
];
