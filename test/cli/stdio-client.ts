/**
 * A minimal MCP client over a `supervisor mcp` child's stdio, for the stdio tests:
 * requests and answers, raw writes (bad and huge lines), and checks that stdout
 * carries nothing but protocol messages.
 */
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import type { CliProcess, CliResult } from './run-cli.js';

export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: number | string | null;
  method?: string;
  params?: unknown;
  result?: Record<string, unknown>;
  error?: { code: number; message: string };
}

export interface ToolResult {
  content: Array<{ type: string; text: string }>;
  structuredContent?: Record<string, unknown>;
  isError?: boolean;
}

/** A minimal MCP client over the child's stdio that also checks the stdout discipline. */
export class StdioClient {
  /** Every stdout line, as written, and the messages they carried. */
  readonly lines: string[] = [];
  readonly messages: JsonRpcMessage[] = [];
  private buffer = '';
  private nextId = 1;
  private readonly waiting = new Map<number | string, (message: JsonRpcMessage) => void>();
  private readonly watchers = new Set<() => void>();

  constructor(readonly proc: CliProcess) {
    proc.child.stdout.on('data', (chunk: string) => {
      this.buffer += chunk;
      let newline: number;
      while ((newline = this.buffer.indexOf('\n')) !== -1) {
        const line = this.buffer.slice(0, newline);
        this.buffer = this.buffer.slice(newline + 1);
        this.lines.push(line);
        const message = parseMessage(line);
        this.messages.push(message);
        if (message.id !== undefined && message.id !== null) this.waiting.get(message.id)?.(message);
        for (const watch of this.watchers) watch();
      }
    });
  }

  /** Writes text to the server's stdin as is (bad lines, huge lines). */
  writeRaw(text: string | Buffer): void {
    this.proc.child.stdin.write(text);
  }

  /** The first message (from now on, or already received) matching `pick`. */
  waitFor(pick: (message: JsonRpcMessage) => boolean, timeoutMs = 30_000): Promise<JsonRpcMessage> {
    return new Promise((resolve, reject) => {
      const found = () => this.messages.find(pick);
      const timer = setTimeout(() => {
        this.watchers.delete(check);
        reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages).slice(0, 500)}; stderr: ${this.proc.stderr()}`));
      }, timeoutMs);
      const check = () => {
        const message = found();
        if (!message) return;
        clearTimeout(timer);
        this.watchers.delete(check);
        resolve(message);
      };
      this.watchers.add(check);
      check();
    });
  }

  async request(method: string, params: Record<string, unknown>, timeoutMs = 30_000): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    const answer = new Promise<JsonRpcMessage>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${method} within ${timeoutMs} ms; stderr: ${this.proc.stderr()}`)), timeoutMs);
      this.waiting.set(id, (message) => {
        clearTimeout(timer);
        this.waiting.delete(id);
        resolve(message);
      });
    });
    this.proc.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', id, method, params })}\n`);
    const message = await answer;
    assert.equal(message.error, undefined, `${method} failed: ${JSON.stringify(message.error)}`);
    assert.ok(message.result, `${method}: no result`);
    return message.result;
  }

  notify(method: string, params: Record<string, unknown> = {}): void {
    this.proc.child.stdin.write(`${JSON.stringify({ jsonrpc: '2.0', method, params })}\n`);
  }

  /** The opening handshake of every MCP session. */
  async initialize(timeoutMs?: number): Promise<Record<string, unknown>> {
    const result = await this.request('initialize', { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'cli-test', version: '1.0.0' } }, timeoutMs);
    this.notify('notifications/initialized');
    return result;
  }

  async callTool(name: string, args: Record<string, unknown>): Promise<ToolResult> {
    return (await this.request('tools/call', { name, arguments: args })) as unknown as ToolResult;
  }

  async toolNames(): Promise<string[]> {
    const { tools } = (await this.request('tools/list', {})) as { tools: Array<{ name: string }> };
    return tools.map((t) => t.name).sort();
  }

  /** Closes stdin as a client does when it is done, and measures how long the server takes to exit. */
  async closeStdin(): Promise<{ ms: number; result: CliResult }> {
    const started = performance.now();
    this.proc.child.stdin.end();
    const result = await this.proc.result;
    return { ms: performance.now() - started, result };
  }
}

export function parseMessage(line: string): JsonRpcMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(line);
  } catch {
    throw new Error(`stdout carried a line that is not JSON-RPC: ${JSON.stringify(line)}`);
  }
  assert.ok(parsed !== null && typeof parsed === 'object' && (parsed as JsonRpcMessage).jsonrpc === '2.0', `not a JSON-RPC message: ${line}`);
  return parsed as JsonRpcMessage;
}

/** Every stdout line was a JSON-RPC message and nothing followed the last newline. */
export function assertOnlyProtocolOnStdout(client: StdioClient, result: CliResult): void {
  assert.ok(client.lines.length > 0);
  for (const line of client.lines) parseMessage(line);
  assert.equal(result.stdout, client.lines.map((l) => `${l}\n`).join(''), 'stdout holds exactly the protocol lines');
}

