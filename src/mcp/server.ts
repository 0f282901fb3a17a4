import { ProtocolError, Server, type Tool } from '@modelcontextprotocol/server';
import type { Catalog, Toolset } from '../catalog/catalog.js';
import type { Invoker } from '../catalog/invoker.js';
import { schemasOf } from '../catalog/json-schema.js';
import type { Operation, Progress } from '../catalog/operation.js';
import { SupervisorError, toSupervisorError } from '../core/errors.js';
import { scopeOf, type Principal } from '../core/principal.js';
import { VERSION } from '../version.js';
import { DEFAULT_SELECTION, endpointOf, instructionsFor, selectTools, type ToolSelection } from './toolsets.js';

/** JSON-RPC "Invalid params": what a client gets for a toolset selection that names no toolset. */
const INVALID_PARAMS = -32602;

/**
 * String and list format limits (patterns, lengths, item counts) are left out of the
 * input schemas MCP lists: they cost an agent's context on every session (~700 tokens
 * on /mcp/meta) and a model does not read regular expressions well; the daemon checks
 * every one of them and its error names the field and what it wants. OpenAPI keeps them.
 */
const UNLISTED = new Set(['pattern', 'minLength', 'maxLength', 'minItems', 'maxItems']);
const listed = new WeakMap<Operation, Record<string, unknown>>();

function withoutFormatLimits(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutFormatLimits);
  if (schema === null || typeof schema !== 'object') return schema;
  return Object.fromEntries(
    Object.entries(schema)
      // A property may be named like a keyword (a field called "pattern"): only keywords are dropped.
      .filter(([key, value]) => !(UNLISTED.has(key) && typeof value !== 'object'))
      .map(([key, value]) => [key, withoutFormatLimits(value)]),
  );
}

function listedInput(op: Operation): Record<string, unknown> {
  let input = listed.get(op);
  if (!input) listed.set(op, (input = { ...(withoutFormatLimits(schemasOf(op).input) as Record<string, unknown>), type: 'object' }));
  return input;
}

/** The tools/list entry for an operation: every field an agent needs to pick and call it. */
export function toolDefinition(op: Operation): Tool {
  const { output } = schemasOf(op);
  return {
    name: op.name,
    title: op.title,
    description: op.description,
    inputSchema: listedInput(op) as Tool['inputSchema'],
    outputSchema: { ...output, type: 'object' } as Tool['outputSchema'],
    annotations: { title: op.title, ...op.annotations },
  };
}

/** The selected tools, or the refusal every request of this server answers with. */
function selected(catalog: Catalog, principal: Principal, selection: ToolSelection) {
  try {
    return selectTools(catalog, principal, endpointOf(scopeOf(principal)), selection);
  } catch (err) {
    if (err instanceof SupervisorError) return err;
    throw err;
  }
}

/**
 * An MCP server whose tools are the catalog operations of the selected toolsets
 * visible to `principal`, each call going through `invoker`. Domain errors become
 * tool errors (isError) that the model reads; the message says what to do next.
 */
/**
 * `refused` hears of the calls this adapter refuses itself, before any operation (an unknown
 * tool, one this session is not served): the daemon counts them as it counts the calls it runs.
 */
export function buildMcpServer(catalog: Catalog, principal: Principal, invoker: Invoker, selection: ToolSelection = DEFAULT_SELECTION, refused?: (tool: string, code: 'not_found' | 'forbidden') => void): Server {
  const project = scopeOf(principal);
  const choice = selected(catalog, principal, selection);
  const enabled = choice instanceof SupervisorError ? [] : choice.toolsets;
  const callable = new Set(catalog.visibleTo(principal).map((op) => op.name));
  // The instructions describe a toolset only when it gives this session a tool: a project token on the
  // `all` toolsets, or a read-only session, is not told about tools it would be refused.
  const offers = (t: Toolset) => t.operations.some((op) => callable.has(op.name) && (!selection.readonly || op.annotations.readOnlyHint));
  const others = catalog.toolsets.filter((t) => !enabled.includes(t) && offers(t));
  const names = { tools: new Set(catalog.all().map((op) => op.name)), served: new Set(choice instanceof SupervisorError ? [] : choice.tools.map((op) => op.name)) };
  const server = new Server({ name: `supervisor-${project}`, version: VERSION }, { capabilities: { tools: {} }, instructions: instructionsFor(project, enabled.filter(offers), others, names) });
  const refuse = (error: SupervisorError): never => {
    throw new ProtocolError(INVALID_PARAMS, error.message, error.details);
  };
  const tools = choice instanceof SupervisorError ? [] : choice.tools;
  const definitions = tools.map(toolDefinition);
  const served = new Set(tools.map((op) => op.name));
  // An operation the principal may call but this selection leaves out gets a pointer to its toolset;
  // one it may not call at all goes to the invoker, whose refusal says why.
  server.setRequestHandler('tools/list', async () => (choice instanceof SupervisorError ? refuse(choice) : { tools: definitions }));
  server.setRequestHandler('tools/call', async (request, ctx) => {
    if (choice instanceof SupervisorError) return refuse(choice);
    const name = request.params.name;
    // A tool that does not exist is a protocol error (MCP: tools/call with an unknown name is -32602), not a tool's failure.
    if (!catalog.get(name)) {
      refused?.('(unknown)', 'not_found');
      throw new ProtocolError(INVALID_PARAMS, `unknown tool ${JSON.stringify(name.slice(0, 100))}; tools/list shows the tools of this session`);
    }
    if (!served.has(name) && callable.has(name)) {
      refused?.(name, 'forbidden');
      const op = catalog.get(name)!;
      // Left out by read-only mode when its toolset is on: asking for the toolset would not help.
      const text = selection.readonly && !op.annotations.readOnlyHint && enabled.some((t) => t.id === op.domain)
        ? `${name} changes things, and this session is read-only (X-Supervisor-Readonly over HTTP, --readonly for supervisor mcp); connect without it to call ${name}`
        : `${name} is not served here (toolsets: ${enabled.map((t) => t.id).join(', ')}${selection.readonly ? ', read-only' : ''}); ask for its toolset ${op.domain}: the X-Supervisor-Toolsets header over HTTP, --toolsets default,${op.domain} for supervisor mcp`;
      return { content: [{ type: 'text', text: `forbidden: ${text}` }], isError: true };
    }
    try {
      const progressToken = ctx.mcpReq._meta?.progressToken;
      const onProgress = progressToken === undefined
        ? undefined
        : (step: Progress) => void ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress: step.progress ?? 0, total: step.total, message: step.message } }).catch(() => undefined);
      const output = await invoker.invoke(name, request.params.arguments ?? {}, { onProgress });
      return { content: [{ type: 'text', text: JSON.stringify(output) }], structuredContent: output };
    } catch (err) {
      const error = toSupervisorError(err);
      // The details REST gives (the current version, the fields, what is missing) follow as the REST error's JSON:
      // not as structuredContent, which a client may check against the tool's output schema.
      const details = Object.keys(error.details).length > 0 ? [{ type: 'text' as const, text: JSON.stringify(error.toJSON()) }] : [];
      return { content: [{ type: 'text', text: `${error.code}: ${error.message}` }, ...details], isError: true };
    }
  });
  return server;
}
