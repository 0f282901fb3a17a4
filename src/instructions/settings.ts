import { z } from 'zod';
import { defineSettings } from '../core/settings.js';

export const instructionSettings = defineSettings({
  // Optional: the default lives in the data dir, which a setting's default cannot name; create() resolves it.
  instructionsRoot: {
    env: 'SUPERVISOR_INSTRUCTIONS_ROOT',
    schema: z.string().min(1).optional(),
    default: undefined,
    shownDefault: '<data dir>/instructions',
    doc: 'Folder of the shared instruction layers (.supervisor-core/ for every project, .supervisor-meta/ for meta); `supervisor instructions init` creates it with a starter set.',
  },
});
