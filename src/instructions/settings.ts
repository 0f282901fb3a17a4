import { z } from 'zod';
import { defineSettings } from '../core/settings.js';

export const instructionSettings = defineSettings({
  instructionsRoot: {
    env: 'SUPERVISOR_INSTRUCTIONS_ROOT',
    schema: z.string().min(1).optional(),
    default: undefined,
    inDataDir: 'instructions',
    shownDefault: '<data dir>/instructions',
    doc: 'Folder of the shared instruction layers (.supervisor-core/ for every project, .supervisor-meta/ for meta); `supervisor instructions init` creates it with a starter set.',
  },
});
