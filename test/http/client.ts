/**
 * Small clients for the daemon's two network interfaces, as a user would call
 * them: REST through global fetch, MCP through the official v2 client over
 * Streamable HTTP. Every answer's text is also appended to a transcript, so a
 * test can scan everything the daemon ever said back (leak checks).
 */
import assert from 'node:assert/strict';
import { Client, SdkHttpError, StreamableHTTPClientTransport, type Tool } from '@modelcontextprotocol/client';

export type Json = Record<string, unknown>;

/** Everything received, tagged with what produced it. */
export interface Received {
  via: 'rest' | 'mcp';
  /** e.g. `GET /api/v1/secret` or `tools/call get_secret`. */
  what: string;
  /** HTTP status (REST, MCP transport errors) or 200 for MCP tool results. */
  status: number;
  /** True for a REST 4xx/5xx, an MCP transport error or an MCP tool error. */
  error: boolean;
  text: string;
}

export class Transcript {
  readonly items: Received[] = [];
  add(item: Received): void {
    this.items.push(item);
  }
}

export interface RestAnswer {
  status: number;
  /** The parsed JSON body (an empty object when the body is not JSON). */
  body: Json;
  text: string;
}

export interface RestOptions {
  query?: Record<string, string | number | boolean>;
  /** Sent as JSON. */
  json?: unknown;
  /** Sent as is (with `contentType`, default application/json): for malformed bodies. */
  raw?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export const API = '/api/v1';

/** REST with one bearer token (or none). `secret` means `/api/v1/secret`; a leading / is taken as is. */
export class Rest {
  constructor(
    readonly url: string,
    readonly token: string | undefined,
    readonly transcript: Transcript = new Transcript(),
  ) {}

  /** The same server and transcript with another token. */
  as(token: string | undefined): Rest {
    return new Rest(this.url, token, this.transcript);
  }

  async request(method: string, path: string, options: RestOptions = {}): Promise<RestAnswer> {
    const target = new URL(path.startsWith('/') ? path : `${API}/${path}`, this.url);
    for (const [name, value] of Object.entries(options.query ?? {})) target.searchParams.set(name, String(value));
    const headers: Record<string, string> = { ...options.headers };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    let body: string | undefined;
    if (options.json !== undefined) body = JSON.stringify(options.json);
    if (options.raw !== undefined) body = options.raw;
    if (body !== undefined) headers['content-type'] = options.contentType ?? 'application/json';
    const response = await fetch(target, { method, headers, body });
    const text = await response.text();
    this.transcript.add({ via: 'rest', what: `${method} ${target.pathname}`, status: response.status, error: response.status >= 400, text });
    return { status: response.status, body: parseObject(text), text };
  }

  get(path: string, query?: RestOptions['query']): Promise<RestAnswer> {
    return this.request('GET', path, { query });
  }

  delete(path: string, query?: RestOptions['query']): Promise<RestAnswer> {
    return this.request('DELETE', path, { query });
  }

  put(path: string, json: unknown): Promise<RestAnswer> {
    return this.request('PUT', path, { json });
  }

  post(path: string, json: unknown): Promise<RestAnswer> {
    return this.request('POST', path, { json });
  }
}

function parseObject(text: string): Json {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' && !Array.isArray(parsed) ? (parsed as Json) : {};
  } catch {
    return {};
  }
}

export interface ErrorInfo {
  code: string;
  message: string;
  details: Json;
}

/** Asserts `answer` is our error shape with `status` and returns its error. */
export function expectError(answer: RestAnswer, status: number, code: string): ErrorInfo {
  assert.equal(answer.status, status, `expected HTTP ${status}, got ${answer.status}: ${answer.text}`);
  const error = answer.body.error as ErrorInfo | undefined;
  assert.ok(error && typeof error === 'object', `expected {error: {...}}, got ${answer.text}`);
  assert.equal(error.code, code, answer.text);
  assert.equal(typeof error.message, 'string');
  assert.ok(error.message.length > 0);
  return error;
}

/** Asserts a 200 and returns the body. */
export function expectOk(answer: RestAnswer): Json {
  assert.equal(answer.status, 200, `expected HTTP 200, got ${answer.status}: ${answer.text}`);
  return answer.body;
}

/** The result of one tools/call, as an agent sees it. */
export interface ToolAnswer {
  isError: boolean;
  /** The text content blocks, joined. */
  text: string;
  /** structuredContent, when the tool succeeded. */
  output: Json | undefined;
}

export interface McpSession {
  client: Client;
  tools(): Promise<Tool[]>;
  call(name: string, args?: Json): Promise<ToolAnswer>;
  close(): Promise<void>;
}

/** Extra request headers (X-Supervisor-Toolsets…) and query (`toolsets=…`) for the MCP endpoint. */
export interface McpOptions {
  headers?: Record<string, string>;
  query?: string;
}

const transportFor = (url: string, project: string, token: string | undefined, options: McpOptions = {}) =>
  new StreamableHTTPClientTransport(new URL(`/mcp/${project}${options.query ? `?${options.query}` : ''}`, url), {
    requestInit: { headers: { ...(token === undefined ? {} : { Authorization: `Bearer ${token}` }), ...options.headers } },
  });

/** Connects an MCP client to `/mcp/<project>` with `token`. */
export async function connectMcp(url: string, project: string, token: string | undefined, transcript = new Transcript(), options: McpOptions = {}): Promise<McpSession> {
  const client = new Client({ name: 'supervisor-tests', version: '1.0.0' });
  await client.connect(transportFor(url, project, token, options));
  return {
    client,
    tools: async () => (await client.listTools()).tools,
    async call(name, args = {}) {
      const result = await client.callTool({ name, arguments: args });
      const text = result.content.map((block) => (block.type === 'text' ? block.text : `[${block.type}]`)).join('\n');
      const isError = result.isError === true;
      transcript.add({ via: 'mcp', what: `tools/call ${name}`, status: 200, error: isError, text });
      const structured = result.structuredContent;
      const output = structured !== null && typeof structured === 'object' && !Array.isArray(structured) ? (structured as Json) : undefined;
      return { isError, text, output };
    },
    close: () => client.close(),
  };
}

/**
 * Tries to connect and expects the HTTP layer to refuse: returns the status and
 * the parsed error body the transport received.
 */
export async function mcpRefusal(url: string, project: string, token: string | undefined, transcript = new Transcript()): Promise<RestAnswer> {
  const client = new Client({ name: 'supervisor-tests', version: '1.0.0' });
  try {
    await client.connect(transportFor(url, project, token));
  } catch (err) {
    assert.ok(err instanceof SdkHttpError, `expected an HTTP error from the MCP transport, got ${String(err)}`);
    const text = typeof err.data.text === 'string' ? err.data.text : '';
    transcript.add({ via: 'mcp', what: `connect /mcp/${project}`, status: err.status, error: true, text });
    return { status: err.status, body: parseObject(text), text };
  }
  await client.close();
  assert.fail(`connecting to /mcp/${project} succeeded; expected a refusal`);
}

/** One raw POST to /mcp/<project> (for bodies no MCP client would send). */
export async function mcpPost(url: string, project: string, token: string | undefined, body: string, transcript = new Transcript()): Promise<RestAnswer> {
  const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };
  if (token !== undefined) headers.authorization = `Bearer ${token}`;
  const response = await fetch(new URL(`/mcp/${project}`, url), { method: 'POST', headers, body });
  const text = await response.text();
  transcript.add({ via: 'mcp', what: `POST /mcp/${project}`, status: response.status, error: response.status >= 400, text });
  return { status: response.status, body: parseObject(text), text };
}

/** Asserts a tool error whose text starts with `code:` and returns the text. */
export function expectToolError(answer: ToolAnswer, code: string): string {
  assert.equal(answer.isError, true, `expected a tool error, got: ${answer.text.slice(0, 300)}`);
  assert.ok(answer.text.startsWith(`${code}:`), `expected "${code}: …", got: ${answer.text.slice(0, 300)}`);
  return answer.text;
}

/** Asserts a successful tool call and returns its structured output. */
export function expectToolOk(answer: ToolAnswer): Json {
  assert.equal(answer.isError, false, `expected success, got: ${answer.text.slice(0, 300)}`);
  assert.ok(answer.output, 'a successful call carries structuredContent');
  return answer.output;
}
