import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Principal } from '../core/principal.js';
import { LocalInvoker } from '../catalog/local-invoker.js';
import { invalidInput } from '../core/errors.js';
import { projectName } from '../core/names.js';
import type { AppCore } from '../catalog/wire.js';
import { checkToolsets, parseReadonly, parseToolsets, type ToolSelection } from '../mcp/toolsets.js';
import { narrow, principalOf } from './auth.js';
import { assertProjectExists } from '../projects/index.js';

/**
 * A body fastify could not parse never reaches the SDK; MCP clients expect JSON-RPC's own
 * "Parse error" (-32700, id null) rather than the REST error shape.
 */
export function jsonRpcParseError(reason: string): JsonRpcErrorMessage {
  return jsonRpcError(-32700, `Parse error: ${reason}`);
}

export interface JsonRpcErrorMessage {
  jsonrpc: '2.0';
  id: null;
  error: { code: number; message: string };
}

/** A JSON-RPC error answer to a request whose id could not be read. */
export function jsonRpcError(code: number, message: string): JsonRpcErrorMessage {
  return { jsonrpc: '2.0', id: null, error: { code, message } };
}

/** The SDK handler speaks web-standard Request/Response; fastify speaks Node streams. */
function toWebRequest(request: FastifyRequest): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers)) {
    if (typeof value === 'string') headers.set(name, value);
    else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
  }
  const hasBody = request.method === 'POST' && request.body !== undefined;
  return new Request(`http://${request.headers.host ?? 'localhost'}${request.url}`, {
    method: request.method,
    headers,
    body: hasBody ? JSON.stringify(request.body) : undefined,
  });
}

async function sendWebResponse(reply: FastifyReply, response: Response): Promise<FastifyReply> {
  reply.status(response.status);
  // The SDK's event streams say `no-cache, no-transform`, which lets a cache keep a copy (of a
  // get_secret answer); the daemon's no-store stays, and the stream keeps its no-transform.
  response.headers.forEach((value, name) => void reply.header(name, name === 'cache-control' ? value.replace(/\bno-cache\b/, 'no-store') : value));
  return reply.send(response.body ? Readable.fromWeb(response.body as import('node:stream/web').ReadableStream) : undefined);
}

const header = (request: FastifyRequest, name: string): string | undefined => {
  const value = request.headers[name];
  return Array.isArray(value) ? value.join(',') : value;
};

/** Toolsets from the X-Supervisor-Toolsets header or the `toolsets` query parameter; read-only likewise. */
function selectionOf(request: FastifyRequest): ToolSelection {
  const query = request.query as Record<string, string | undefined>;
  return {
    toolsets: parseToolsets(header(request, 'x-supervisor-toolsets') ?? query.toolsets),
    readonly: parseReadonly(header(request, 'x-supervisor-readonly') ?? query.readonly),
  };
}

/**
 * Streamable HTTP at /mcp/<project>, stateless: a fresh server per request over
 * the shared service pools. The principal is the caller's token narrowed to the project.
 */
export function registerMcpRoutes(app: FastifyInstance, core: AppCore): void {
  // The MCP SDK (and the tool listing built on it) is loaded by the first MCP request, not at start:
  // a daemon serving only REST and the CLI never pays its memory.
  let loading: Promise<McpHandler> | undefined;
  const handlerOnce = () => (loading ??= createHandler(core));

  // Sessions are stateless: no session to DELETE. A GET is checked (token, project, toolsets) like
  // a message, which is how the stdio relay asks before it starts, and the SDK then declines it
  // (405, Allow: POST: no stream, as MCP clients expect).
  app.route({
    method: ['GET', 'POST'],
    url: '/mcp/:project',
    exposeHeadRoute: false,
    handler: async (request, reply) => {
      const parsed = projectName.safeParse((request.params as { project: string }).project);
      if (!parsed.success) throw invalidInput(`/mcp/<project>: ${parsed.error.issues[0]?.message}`);
      const principal = await narrow(core, principalOf(request), parsed.data, request);
      await assertProjectExists(core, parsed.data);
      const selection = selectionOf(request);
      checkToolsets(core.catalog, selection.toolsets);
      const handler = await handlerOnce();
      const response = await handler.fetch(toWebRequest(request), {
        authInfo: { token: 'bearer', clientId: principal.actor, scopes: [], extra: { principal, selection } },
        parsedBody: request.body,
      });
      return sendWebResponse(reply, response);
    },
  });
  app.addHook('onClose', async () => {
    if (loading) await (await loading).close();
  });
}

type McpHandler = ReturnType<typeof import('@modelcontextprotocol/server').createMcpHandler>;

async function createHandler(core: AppCore): Promise<McpHandler> {
  const [{ createMcpHandler }, { buildMcpServer }] = await Promise.all([import('@modelcontextprotocol/server'), import('../mcp/server.js')]);
  return createMcpHandler((ctx) => {
    const { principal, selection } = ctx.authInfo?.extra as { principal: Principal; selection: ToolSelection };
    return buildMcpServer(core.catalog, principal, new LocalInvoker(core, principal, 'mcp'), selection, (tool, code) => core.metrics.observe(tool, 'mcp', code, 0));
  }, { maxRequestBodySize: 16 * 1024 * 1024, onerror: (err) => core.log.debug({ err: err.message }, 'mcp request rejected') });
}
