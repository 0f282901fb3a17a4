// A project's live facts as its instructions show them, read from the other domains each time
// (never cached): a port allocated or a secret set a second ago makes the block stale at once.
import type { Endpoint } from '../catalog/domain.js';
import { SupervisorError } from '../core/errors.js';
import { META } from '../core/names.js';
import { allPages } from '../core/page.js';
import { adminPrincipal } from '../core/principal.js';
import type { PortService } from '../ports/index.js';
import type { SecretsService } from '../secrets/index.js';
import type { InstructionProject } from './assemble.js';
import type { Facts } from './placeholders.js';

export interface FactSources {
  ports: Pick<PortService, 'getRange' | 'projectAllocations'>;
  /** Used for paths only: the listing carries metadata, never a value. */
  secrets: Pick<SecretsService, 'list'>;
  /** The daemon's address, for the project's MCP endpoint. */
  baseUrl(): string;
  defaultToolsets(endpoint: Endpoint): string[];
}

/** Lists the project's folder as the supervisor itself: a project token's own view would be the same folder. */
const READER = adminPrincipal('system:instructions');

/** The project's MCP endpoint on this daemon (`/mcp/meta` is the admin one). */
export const mcpEndpoint = (baseUrl: string, project: string) => `${baseUrl}/mcp/${project}`;
const PAGE = 200;

export function factsFrom(sources: FactSources): (project: InstructionProject) => Promise<Facts> {
  return async (project) => {
    const [ports, secretPaths] = await Promise.all([portFacts(sources.ports, project.name), secretPathsOf(sources.secrets, project.name)]);
    const endpoint: Endpoint = project.name === META ? 'meta' : 'project';
    return { ...ports, secretPaths, mcp: { url: mcpEndpoint(sources.baseUrl(), project.name), toolsets: sources.defaultToolsets(endpoint) } };
  };
}

/** A project without a range (added before ports existed, or its range removed) has no services either. */
async function portFacts(ports: FactSources['ports'], project: string): Promise<Pick<Facts, 'portRange' | 'services'>> {
  let range;
  try {
    range = await ports.getRange(project);
  } catch (err) {
    if (err instanceof SupervisorError && err.code === 'not_found') return { services: [] };
    throw err;
  }
  const allocations = await ports.projectAllocations(project);
  return {
    portRange: range.range,
    services: allocations.map((a) => ({ service: a.service, port: a.port, ...(a.hostname ? { hostname: a.hostname } : {}) })),
  };
}

async function secretPathsOf(secrets: FactSources['secrets'], project: string): Promise<string[]> {
  const items = await allPages((cursor) => secrets.list(READER, { prefix: `project/${project}/`, recursive: true, includeDeleted: false, limit: PAGE, cursor }));
  return items.map((s) => s.path);
}
