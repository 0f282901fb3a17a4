/**
 * JSON-RPC over stdio, one message per line, read defensively: a line too large,
 * a line that is not JSON, or a batch (not part of MCP since 2025-06-18) gets a
 * JSON-RPC error answer and reading goes on, so one bad line never makes the
 * server deaf. No dependencies: the stdio relay loads this and little else.
 */
import type { Readable } from 'node:stream';
import { jsonSyntaxReason } from '../core/json-syntax.js';

/** The daemon's HTTP body limit; a line larger than this could not be answered anyway. */
export const MAX_LINE_BYTES = 16 * 1024 * 1024;

export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: string | number | null;
  method?: string;
  params?: unknown;
  result?: unknown;
  error?: unknown;
}

export type Frame = { kind: 'message'; message: JsonRpcMessage } | { kind: 'refused'; reply: JsonRpcMessage };

export const rpcError = (id: JsonRpcMessage['id'], code: number, message: string): JsonRpcMessage => ({ jsonrpc: '2.0', id: id ?? null, error: { code, message } });

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/** One line's bytes as a message, or the error that answers it. */
export function frameOf(bytes: Buffer): Frame | undefined {
  let text: string;
  try {
    text = utf8.decode(bytes).trim();
  } catch {
    return { kind: 'refused', reply: rpcError(null, PARSE_ERROR, 'Parse error: the line is not valid UTF-8') };
  }
  if (text === '') return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { kind: 'refused', reply: rpcError(null, PARSE_ERROR, `Parse error: ${jsonSyntaxReason(err)}`) };
  }
  if (Array.isArray(parsed)) {
    return { kind: 'refused', reply: rpcError(null, INVALID_REQUEST, 'Invalid Request: JSON-RPC batches are not supported (MCP 2025-06-18 and later); send one message per line') };
  }
  const message = parsed as Partial<JsonRpcMessage> | null;
  if (message === null || typeof message !== 'object' || message.jsonrpc !== '2.0') {
    const id = message !== null && typeof message === 'object' && (typeof message.id === 'string' || typeof message.id === 'number') ? message.id : null;
    return { kind: 'refused', reply: rpcError(id, INVALID_REQUEST, 'Invalid Request: not a JSON-RPC 2.0 message') };
  }
  return { kind: 'message', message: message as JsonRpcMessage };
}

/**
 * Splits `input` into lines and hands each on as a frame. A line over `maxBytes`
 * is dropped as it streams in (never held whole) and answered with an error.
 * `end` is called once input has ended and every line before it was handed on.
 */
export function readFrames(input: Readable, onFrame: (frame: Frame) => void, end: () => void, maxBytes = MAX_LINE_BYTES): void {
  let parts: Buffer[] = [];
  let size = 0;
  let oversize = false;
  const lineDone = () => {
    if (oversize) onFrame({ kind: 'refused', reply: rpcError(null, INVALID_REQUEST, `Invalid Request: a message larger than ${maxBytes} bytes was dropped`) });
    else {
      const frame = frameOf(Buffer.concat(parts, size));
      if (frame) onFrame(frame);
    }
    parts = [];
    size = 0;
    oversize = false;
  };
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      if (!oversize) parts.push(chunk.subarray(start, nl));
      size += nl - start;
      if (size > maxBytes) oversize = true;
      lineDone();
      start = nl + 1;
    }
    if (start < chunk.length && !oversize) {
      parts.push(chunk.subarray(start));
      size += chunk.length - start;
      if (size > maxBytes) {
        oversize = true;
        parts = [];
      }
    }
  });
  input.once('end', () => {
    if (size > 0 || oversize) lineDone();
    end();
  });
}

/** Counts requests that still owe an answer, so closing stdin can wait for them (bounded). */
export class InFlight {
  private readonly open = new Set<string>();
  private waiting: (() => void) | undefined;

  begin(message: JsonRpcMessage): void {
    if (message.method !== undefined && message.id !== undefined && message.id !== null) this.open.add(JSON.stringify(message.id));
  }

  /** A message going out: an answer settles the request with its id. */
  settle(message: JsonRpcMessage): void {
    if (message.method === undefined && message.id !== undefined && message.id !== null) this.open.delete(JSON.stringify(message.id));
    if (this.open.size === 0) this.waiting?.();
  }

  /** Resolves when every request has its answer, or after `ms`. */
  drained(ms: number): Promise<void> {
    if (this.open.size === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.waiting = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
