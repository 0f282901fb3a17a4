import { z } from 'zod';
import { operationsOf, READ, WRITE } from '../catalog/operation.js';
import { pageArray, pageInput, pageOutput } from '../core/page.js';
import type { SecretsService } from './service.js';


const operation = operationsOf<SecretsService>('secrets');

export const keyOperations = [
  operation({
    name: 'rotate_data_key',
    title: 'Rotate data key',
    description: 'Start a new data key for new writes; old versions keep theirs.',
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/keys/rotate-data' },
    cli: { command: ['keys', 'rotate-data'] },
    input: z.object({}),
    output: z.object({ activeKeyId: z.number().int(), retiredKeyId: z.number().int().nullable() }),
    handler: ({ svc, principal }) => svc.keyring.rotateDataKey(principal.actor),
  }),
  operation({
    name: 'rotate_master_key',
    title: 'Rotate master key',
    description: 'New master key; every data key is rewrapped (key-file mode only).',
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'POST', path: '/keys/rotate-master' },
    cli: { command: ['keys', 'rotate-master'] },
    input: z.object({}),
    output: z.object({ masterKeyId: z.string().describe('Fingerprint of the new master key (not the key)'), rewrapped: z.number().int() }),
    handler: ({ svc, principal }) => svc.keyring.rotateMasterKey(principal.actor),
  }),
  operation({
    name: 'list_keys',
    title: 'List data keys',
    description: 'Data keys, status and encryption counts.',
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
    handler: async ({ svc }, input) => pageArray(await svc.keyring.list(), input, (k) => String(k.id).padStart(10, '0')),
  }),
];
