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

/** How much of each end of a dropped line is kept to find its id. */
const EDGE_BYTES = 512;
const SCALAR_ID = /^\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")/;

/** The id of a JSON-RPC message given by `text` whole or by its start: the top-level "id" member whose value lies within it. */
function idAtTop(text: string): JsonRpcMessage['id'] {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{' || c === '[') depth++;
    else if (c === '}' || c === ']') depth--;
    else if (c === '"') {
      const end = /^"(?:[^"\\]|\\.)*"/.exec(text.slice(i));
      if (!end) return null;
      const member = depth === 1 && /^\s*:/.exec(text.slice(i + end[0].length));
      if (member && end[0] === '"id"') {
        const value = SCALAR_ID.exec(text.slice(i + end[0].length + member[0].length));
        return value ? (JSON.parse(value[1]!) as string | number) : null;
      }
      i += end[0].length - 1;
    }
  }
  return null;
}

/**
 * The id of a line too large to read, from the bytes kept of its two ends, so the error answers
 * the request (a reply with id null answers nothing: the client waited for its own until it gave
 * up). Clients put it first (`{"jsonrpc":"2.0","id":7,…`) or last (`…,"id":7}`, the MCP SDK's order).
 */
export function idOfDroppedLine(head: Buffer, tail: Buffer): JsonRpcMessage['id'] {
  const last = /,\s*"id"\s*:\s*(-?\d+(?:\.\d+)?|"(?:[^"\\]|\\.)*")\s*\}\s*$/.exec(tail.toString('utf8'));
  if (last) return JSON.parse(last[1]!) as string | number;
  return idAtTop(head.toString('utf8'));
}

/**
 * Splits `input` into lines and hands each on as a frame. A line over `maxBytes`
 * is dropped as it streams in (never held whole, only its two ends) and answered with an error.
 * `end` is called once input has ended and every line before it was handed on.
 */
export function readFrames(input: Readable, onFrame: (frame: Frame) => void, end: () => void, maxBytes = MAX_LINE_BYTES): void {
  let parts: Buffer[] = [];
  let size = 0;
  let oversize = false;
  let head = Buffer.alloc(0);
  let tail = Buffer.alloc(0);
  const drop = () => {
    // The two ends only: the whole line is never copied.
    let from = 0;
    for (let kept = 0; from < parts.length && kept < EDGE_BYTES; from++) kept += parts[from]!.length;
    let to = parts.length;
    for (let kept = 0; to > 0 && kept < EDGE_BYTES; to--) kept += parts[to - 1]!.length;
    head = Buffer.concat(parts.slice(0, from)).subarray(0, EDGE_BYTES);
    tail = Buffer.concat(parts.slice(to)).subarray(-EDGE_BYTES);
    parts = [];
    oversize = true;
  };
  const lineDone = () => {
    if (oversize) onFrame({ kind: 'refused', reply: rpcError(idOfDroppedLine(head, tail), INVALID_REQUEST, `Invalid Request: the message is larger than ${maxBytes} bytes, the most one may be; it was not read`) });
    else {
      const frame = frameOf(Buffer.concat(parts, size));
      if (frame) onFrame(frame);
    }
    parts = [];
    size = 0;
    oversize = false;
  };
  const take = (piece: Buffer) => {
    size += piece.length;
    if (oversize) tail = Buffer.concat([tail, piece]).subarray(-EDGE_BYTES);
    else {
      parts.push(piece);
      if (size > maxBytes) drop();
    }
  };
  input.on('data', (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl));
      lineDone();
      start = nl + 1;
    }
    if (start < chunk.length) take(chunk.subarray(start));
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
