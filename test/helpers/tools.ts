import { catalog } from '../../src/app.js';
import { adminPrincipal, projectPrincipal } from '../../src/core/principal.js';
import { DEFAULT_SELECTION, selectTools } from '../../src/mcp/toolsets.js';

/** The tool names an endpoint lists by default: /mcp/meta for an admin, /mcp/<project> for that project. */
export function defaultToolNames(project: string): string[] {
  const principal = project === 'meta' ? adminPrincipal('test') : projectPrincipal(project, 'test');
  return selectTools(catalog, principal, project === 'meta' ? 'meta' : 'project', DEFAULT_SELECTION).tools.map((op) => op.name).sort();
}
