import { Server, type Tool } from '@modelcontextprotocol/server';
import type { Principal } from '../core/principal.js';
import { scopeOf } from '../core/principal.js';
import type { Catalog } from '../catalog/catalog.js';
import type { Invoker } from '../catalog/invoker.js';
import { schemasOf } from '../catalog/json-schema.js';
import type { Operation } from '../catalog/operation.js';
import { toSupervisorError } from '../core/errors.js';
import { VERSION } from '../version.js';

/** The tools/list entry for an operation: every field an agent needs to pick and call it. */
export function toolDefinition(op: Operation): Tool {
  const { input, output } = schemasOf(op);
  return {
    name: op.name,
    title: op.title,
    description: op.description,
    inputSchema: { ...input, type: 'object' } as Tool['inputSchema'],
    outputSchema: { ...output, type: 'object' } as Tool['outputSchema'],
    annotations: { title: op.title, ...op.annotations },
  };
}

const instructions = (project: string) =>
  project === 'meta'
    ? 'Supervisor meta server: infrastructure for all projects. Secrets live at exact paths (meta/<service>/<key>, project/<project>/<key>, service/<service>/<key>): call get_secret with the path instead of searching files. List tools return pages: pass nextCursor back as cursor.'
    : `Supervisor server for project ${project}. Its secrets are under project/${project}/: call get_secret with the exact path instead of searching files. List tools return pages: pass nextCursor back as cursor.`;

/**
 * An MCP server whose tools are the catalog operations visible to `principal`,
 * each call going through `invoker`. Domain errors become tool errors (isError)
 * that the model reads; the message says what to do next.
 */
export function buildMcpServer(catalog: Catalog, principal: Principal, invoker: Invoker): Server {
  const project = scopeOf(principal);
  const server = new Server({ name: `supervisor-${project}`, version: VERSION }, { capabilities: { tools: {} }, instructions: instructions(project) });
  const tools = catalog.visibleTo(principal).map(toolDefinition);
  server.setRequestHandler('tools/list', async () => ({ tools }));
  server.setRequestHandler('tools/call', async (request) => {
    try {
      const output = await invoker.invoke(request.params.name, request.params.arguments ?? {});
      return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
    } catch (err) {
      const error = toSupervisorError(err);
      return { content: [{ type: 'text', text: `${error.code}: ${error.message}` }], isError: true };
    }
  });
  return server;
}
