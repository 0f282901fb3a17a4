import { defineDomain, need } from '../catalog/domain.js';
import { settingPath } from '../core/settings.js';
import type { PortService } from '../ports/index.js';
import type { ProjectService } from '../projects/index.js';
import type { SecretsService } from '../secrets/index.js';
import { factsFrom, mcpEndpoint } from './facts.js';
import { instructionOperations } from './operations.js';
import { InstructionsService } from './service.js';
import { instructionSettings } from './settings.js';

export type { InstructionsService } from './service.js';
export { isSupervisorWritten } from './written-files.js';

/** Instructions: every project's CLAUDE.md assembled from shared and own layers, with live facts. */
export const instructionsDomain = defineDomain({
  id: 'instructions',
  title: 'Instructions',
  description:
    "Instructions: each project's CLAUDE.md is built from layer files (core, meta, the project's own) with live facts. To change every agent's instructions: write_instruction_layer, then regenerate_instructions with all.",
  defaultFor: ['meta'],
  settings: instructionSettings,
  needs: {
    projects: need<Pick<ProjectService, 'list' | 'get'>>(),
    ports: need<Pick<PortService, 'getRange' | 'projectAllocations'>>(),
    secrets: need<Pick<SecretsService, 'list'>>(),
  },
  migrations: new URL('./migrations/', import.meta.url),
  create: ({ core, settings, needs }) =>
    new InstructionsService({
      root: settingPath(instructionSettings.instructionsRoot, settings.instructionsRoot, core.home)!,
      db: core.db,
      clock: core.clock,
      audit: core.audit,
      projects: needs.projects,
      facts: factsFrom({ ports: needs.ports, secrets: needs.secrets, baseUrl: core.baseUrl, defaultToolsets: core.defaultToolsets }),
      mcpUrl: (project) => mcpEndpoint(core.baseUrl(), project),
    }),
  operations: instructionOperations,
});
