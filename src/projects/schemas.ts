import { isAbsolute, normalize } from 'node:path';
import { z } from 'zod';
import type { WithDates } from '../catalog/operation.js';
import { projectName } from '../core/names.js';
import type { Holdings, Project } from './model.js';

export const project = projectName.describe('Project name');

const noNul = (s: string) => !s.includes('\0');
export const description = z.string().max(500).refine(noNul, 'must not contain NUL bytes').describe('What the project is');
export const directory = z
  .string()
  .max(1024)
  .refine(noNul, 'must not contain NUL bytes')
  .refine((d) => isAbsolute(d) && normalize(d) === d && (d === '/' || !d.endsWith('/')), 'must be an absolute, normalised path such as /home/me/consilio')
  .describe("The project's git checkout on this host (absolute path); instructions and the agent loop work there");

const isoDate = z.string().describe('ISO 8601 timestamp');

export const projectOutput = z.object({
  name: z.string(),
  description: z.string().nullable(),
  directory: z.string().nullable(),
  createdAt: isoDate,
  updatedAt: isoDate,
});

export const holdingsOutput = z.array(
  z.object({ domain: z.string(), count: z.number().int(), sample: z.array(z.string()).describe('A few of them, by name') }),
);

export const notesOutput = z.array(z.string()).describe('Things to know about the result (e.g. the port range it got)');

export const projectView = (p: Project): WithDates<z.input<typeof projectOutput>> => ({ ...p });
export const holdingsView = (h: Holdings[]) => h.map((x) => ({ domain: x.domain, count: x.count, sample: x.sample }));
