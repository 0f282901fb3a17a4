import { z } from 'zod';
import { DESTRUCTIVE, IDEMPOTENT_WRITE, operationsOf, READ, WRITE } from '../catalog/operation.js';
import { pageInput, pageOutput } from '../core/page.js';
import { assertOwnProject } from '../core/principal.js';
import { portRangeInput } from '../ports/index.js';
import { description, directory, holdingsOutput, holdingsView, notesOutput, project, projectOutput, projectView } from './schemas.js';
import type { ProjectService } from './service.js';

const operation = operationsOf<ProjectService>('projects');

export const projectOperations = [
  operation({
    name: 'add_project',
    title: 'Add project',
    description: 'Register a project: description, directory on this host, port range (default the next free block of 100). A range with no usable port is refused. Idempotent.',
    access: 'admin',
    annotations: IDEMPOTENT_WRITE,
    rest: { method: 'POST', path: '/projects' },
    cli: { command: ['project', 'add'], args: ['project'], hostPaths: ['directory'] },
    input: z.object({
      // Checked for new names only: a name made before this rule stays addressable everywhere.
      project: project.refine((name) => !name.endsWith('-'), 'a project name cannot end with -: it is a label of its hostnames (api.<project>.example.com)'),
      description: description.optional(),
      directory: directory.optional(),
      range: portRangeInput.optional(),
      deletedSecrets: z.enum(['keep', 'discard']).optional().describe('Deleted secrets already under its folder (an earlier project of the name): keep or discard'),
    }),
    output: projectOutput.extend({ created: z.boolean().describe('False when it already existed'), notes: notesOutput }),
    handler: async ({ svc, principal }, input) => {
      const options = { portRange: input.range, deletedSecrets: input.deletedSecrets };
      const added = await svc.add(principal.actor, { name: input.project, description: input.description, directory: input.directory, options });
      return { ...projectView(added.project), created: added.created, notes: added.notes };
    },
  }),
  operation({
    name: 'list_projects',
    title: 'List projects',
    description: 'List projects with their description and directory.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/projects' },
    cli: { command: ['project', 'list'], columns: ['name', 'description', 'directory'] },
    input: z.object({ ...pageInput }),
    output: z.object({ items: z.array(projectOutput), ...pageOutput }),
    handler: async ({ svc }, input) => {
      const page = await svc.list(input);
      return { items: page.items.map(projectView), nextCursor: page.nextCursor };
    },
  }),
  operation({
    name: 'get_project',
    title: 'Get project',
    description: 'One project and what it owns in each domain (ports, secrets, tokens), with counts.',
    access: 'any',
    annotations: READ,
    rest: { method: 'GET', path: '/project' },
    cli: { command: ['project', 'get'], args: ['project'] },
    input: z.object({ project }),
    output: projectOutput.extend({ holdings: holdingsOutput }),
    handler: async ({ svc, principal }, input) => {
      // What another project holds (its secret paths, token names) is not a project token's to read.
      assertOwnProject(principal, input.project, 'the details');
      const found = await svc.describe(input.project);
      return { ...projectView(found.project), holdings: holdingsView(found.holdings) };
    },
  }),
  operation({
    name: 'update_project',
    title: 'Update project',
    description: "Change a project's description or directory.",
    access: 'admin',
    annotations: WRITE,
    rest: { method: 'PUT', path: '/project' },
    cli: { command: ['project', 'update'], args: ['project'], hostPaths: ['directory'] },
    input: z.object({ project, description: description.nullable().optional().describe('New description; null clears it'), directory: directory.nullable().optional().describe('New directory (absolute path); null clears it') }),
    output: projectOutput.extend({ notes: notesOutput }),
    handler: async ({ svc, principal }, input) => {
      const updated = await svc.update(principal.actor, input.project, { description: input.description, directory: input.directory });
      return { ...projectView(updated.project), notes: updated.notes };
    },
  }),
  operation({
    name: 'remove_project',
    title: 'Remove project',
    description: 'Remove a project. Refused while it owns ports, secrets or tokens, unless force releases them all.',
    access: 'admin',
    annotations: DESTRUCTIVE,
    rest: { method: 'DELETE', path: '/project' },
    cli: { command: ['project', 'remove'], args: ['project'] },
    input: z.object({ project, force: z.boolean().default(false).describe('Release everything the project owns with it') }),
    output: z.object({ project: z.string(), removed: z.boolean(), released: holdingsOutput.describe('What was released with it') }),
    handler: async ({ svc, principal }, input) => {
      const result = await svc.remove(principal.actor, { name: input.project, force: input.force });
      return { ...result, released: holdingsView(result.released) };
    },
  }),
];
