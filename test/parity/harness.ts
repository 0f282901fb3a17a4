/**
 * The parity harness: the three ways in (REST, MCP, CLI), the case shape, and the
 * context every domain's cases use. The cases themselves live with their domain
 * (test/<domain>/parity.ts); test/parity/parity.test.ts runs them all.
 */
import assert from 'node:assert/strict';
import type { Operation } from '../../src/catalog/operation.js';
import { decodeCursor, unbindCursor } from '../../src/core/page.js';
import { adminPrincipal } from '../../src/core/principal.js';
import { describeResult, parseJson, runCli } from '../cli/run-cli.js';
import type { TestDaemon } from '../helpers/daemon.js';

export type Json = Record<string, unknown>;

/**
 * normalise for a list whose cursor holds something of the interface's own (its folder, its
 * host): the cursor decoded, as the list issued it for that call's fields.
 */
export const decodedCursor =
  (list: string) =>
  (output: Json, input: Json): Json => ({ ...output, nextCursor: typeof output.nextCursor === 'string' ? decodeCursor(unbindCursor(list, output.nextCursor, input)) : output.nextCursor });
export type Iface = 'rest' | 'mcp' | 'cli';
export const IFACES: Iface[] = ['rest', 'mcp', 'cli'];

export type Answer = { ok: true; output: Json } | { ok: false; code: string; message: string };

export interface ParityCase {
  /** Runs once before the three calls: state that all three read. */
  setup?(): Promise<void>;
  /** Runs just before each interface's call: that interface's own state. Returns the call's input. */
  input(via: Iface): Promise<Json> | Json;
  /** CLI words replacing `<group> <verb> --input <json>`, for inputs the CLI takes differently (files). */
  cliArgs?(input: Json, via: Iface): Promise<string[]>;
  /** Replaces what legitimately differs between calls (checking its shape first); `input` is the call's, as the operation parsed it. */
  normalise?(output: Json, input: Json): Json;
  /** Checks across the raw answers, in call order (rest, mcp, cli). */
  check?(outputs: Json[]): void;
}

/** What the cases work with; filled in when the daemon has started. */
export interface ParityContext {
  daemon: TestDaemon;
  /** The CLI's environment: the daemon's address and the same admin token. */
  cliEnv: Record<string, string>;
  /** A temp dir for files the CLI reads. */
  scratch: string;
}

/** A domain's cases, built once the context exists. */
export type ParityCases = (ctx: ParityContext) => Record<string, ParityCase>;

/** The actor setup steps run as (not under test). */
export const setupActor = adminPrincipal('parity-setup');

/** Each interface's own folder for an operation that writes. */
export const folder = (op: string, via: Iface) => `project/parity/${op}/via-${via}`;

/** Stores a secret directly through the services (setup, not under test). */
export const put = (ctx: ParityContext, path: string, value: string, extra: { expiresAt?: Date; rotationIntervalDays?: number } = {}) =>
  ctx.daemon.services.secrets.set(setupActor, { path, value, ...extra });

/** The folder names are the one intended difference between the three calls. */
export function withoutInterfaceFolder(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/via-(rest|mcp|cli)/g, 'via-*');
  if (Array.isArray(value)) return value.map(withoutInterfaceFolder);
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutInterfaceFolder(v)]));
  return value;
}

const bearer = (daemon: TestDaemon) => ({ authorization: `Bearer ${daemon.adminToken}` });

/** REST: GET/DELETE carry the input in the query string, PUT/POST as a JSON body. */
async function viaRest(daemon: TestDaemon, op: Operation, input: Json): Promise<Answer> {
  const inQuery = op.rest.method === 'GET' || op.rest.method === 'DELETE';
  const url = new URL(`/api/v1${op.rest.path}`, daemon.url);
  if (inQuery) {
    for (const [name, value] of Object.entries(input)) {
      for (const item of Array.isArray(value) ? value : [value]) url.searchParams.append(name, typeof item === 'object' ? JSON.stringify(item) : String(item));
    }
  }
  const response = await fetch(url, {
    method: op.rest.method,
    headers: inQuery ? bearer(daemon) : { ...bearer(daemon), 'content-type': 'application/json' },
    body: inQuery ? undefined : JSON.stringify(input),
  });
  const body = (await response.json()) as Json;
  if (response.ok) return { ok: true, output: body };
  const error = body.error as { code: string; message: string };
  return { ok: false, code: error.code, message: error.message };
}

interface ToolResult {
  content: Array<{ type: string; text: string }>;
  structuredContent?: Json;
  isError?: boolean;
}

let rpcId = 0;
/** MCP: one stateless JSON-RPC request to the meta server with every toolset (some are on request only); the answer may come as JSON or as one SSE event. */
async function viaMcp(daemon: TestDaemon, op: Operation, input: Json): Promise<Answer> {
  const response = await fetch(new URL('/mcp/meta', daemon.url), {
    method: 'POST',
    headers: { ...bearer(daemon), 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'x-supervisor-toolsets': 'all' },
    body: JSON.stringify({ jsonrpc: '2.0', id: ++rpcId, method: 'tools/call', params: { name: op.name, arguments: input } }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  const payload = response.headers.get('content-type')?.startsWith('text/event-stream')
    ? text.split('\n').find((line) => line.startsWith('data: '))?.slice('data: '.length)
    : text;
  assert.ok(payload, `no JSON-RPC message in ${text}`);
  const message = JSON.parse(payload) as { id: number; result?: ToolResult; error?: unknown };
  assert.equal(message.error, undefined, JSON.stringify(message.error));
  const result = message.result!;
  const first = result.content[0]!.text;
  if (result.isError) {
    const [, code = '', rest = ''] = /^([a-z_]+): (.*)$/s.exec(first) ?? [];
    return { ok: false, code, message: rest };
  }
  assert.ok(result.structuredContent, 'a successful call carries structuredContent');
  assert.deepEqual(JSON.parse(first), result.structuredContent, 'the text content is the same answer');
  return { ok: true, output: result.structuredContent };
}

/** CLI: `supervisor … --json`; an operation error is exit 1 with `{"error":{code,message,details}}` on stderr. */
async function viaCli(env: Record<string, string>, op: Operation, input: Json, args?: string[]): Promise<Answer> {
  const words = args ?? [...op.cli.command, '--input', JSON.stringify(input)];
  const r = await runCli([...words, '--json'], { env });
  if (r.code === 0) return { ok: true, output: parseJson(r) };
  assert.equal(r.code, 1, describeResult(r));
  assert.equal(r.stdout, '');
  const { error } = JSON.parse(r.stderr) as { error: { code: string; message: string } };
  return { ok: false, code: error.code, message: error.message };
}

/** One call through one interface, as the same admin against the same daemon. */
export function call(ctx: ParityContext, iface: Iface, op: Operation, input: Json, cliArgs?: string[]): Promise<Answer> {
  if (iface === 'rest') return viaRest(ctx.daemon, op, input);
  if (iface === 'mcp') return viaMcp(ctx.daemon, op, input);
  return viaCli(ctx.cliEnv, op, input, cliArgs);
}

