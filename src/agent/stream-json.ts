// Claude Code's `-p --output-format stream-json --verbose` output: one JSON object per line,
// `system` (subtype `init` first), then `assistant` and `user` messages, and last a `result`
// line with the outcome, turns and cost. Unknown line types, unknown fields and lines that are
// not JSON at all are tolerated: newer CLI versions add both, and a warning printed to stdout
// must not break a run. Only the result line decides anything.
import { z } from 'zod';
import { clipped } from '../core/clip.js';

/** The fields of the result line a run is judged by. */
export interface ResultLine {
  /** `success`, or `error_max_turns`, `error_max_budget_usd`, `error_during_execution`, … */
  subtype: string;
  /** True when the line says `is_error: true` or its subtype is not `success`. */
  isError: boolean;
  numTurns: number;
  costUsd: number;
  /** The final text on success; on the error subtypes, their `errors` joined. */
  text: string;
  sessionId?: string;
  durationMs?: number;
}

export interface StreamLine {
  /** The line's `type` (`system`, `assistant`, `user`, `result`, …), or `text` when it is not JSON. */
  type: string;
  /** One line a person can read in a status view. */
  summary: string;
  /** Present on the result line only. */
  result?: ResultLine;
}

const anyLine = z.looseObject({ type: z.string() });

const resultLine = z.looseObject({
  type: z.literal('result'),
  subtype: z.string().optional(),
  is_error: z.boolean().optional(),
  num_turns: z.number().optional(),
  total_cost_usd: z.number().optional(),
  duration_ms: z.number().optional(),
  result: z.string().optional(),
  session_id: z.string().optional(),
  errors: z.array(z.unknown()).optional(),
});

const systemLine = z.looseObject({ type: z.literal('system'), subtype: z.string().optional(), model: z.string().optional() });

const block = z.looseObject({
  type: z.string(),
  text: z.string().optional(),
  name: z.string().optional(),
  input: z.record(z.string(), z.unknown()).optional(),
  content: z.unknown().optional(),
  is_error: z.boolean().optional(),
});

const messageLine = z.looseObject({
  type: z.enum(['assistant', 'user']),
  message: z.looseObject({ content: z.union([z.string(), z.array(block)]) }),
});

const SUMMARY_CHARS = 200;
/** A longer line (a huge tool result) is dropped rather than buffered without bound. */
const MAX_LINE_CHARS = 8 * 1024 * 1024;
const DEFAULT_TAIL = 20;

/** Parses one line of output; undefined for a blank line. */
export function parseStreamLine(raw: string): StreamLine | undefined {
  const line = raw.trim();
  if (line === '') return undefined;
  let json: unknown;
  try {
    json = JSON.parse(line);
  } catch {
    return { type: 'text', summary: clip(line) };
  }
  const typed = anyLine.safeParse(json);
  if (!typed.success) return { type: 'text', summary: clip(line) };
  const type = typed.data.type;
  if (type === 'result') {
    const parsed = resultLine.safeParse(json);
    if (parsed.success) {
      const result = toResult(parsed.data);
      return { type, summary: clip(`result ${result.subtype}: ${result.text}`), result };
    }
  }
  if (type === 'system') {
    const parsed = systemLine.safeParse(json);
    if (parsed.success) return { type, summary: `system ${parsed.data.subtype ?? ''}${parsed.data.model ? ` (${parsed.data.model})` : ''}`.trim() };
  }
  if (type === 'assistant' || type === 'user') {
    const parsed = messageLine.safeParse(json);
    if (parsed.success) return { type, summary: clip(`${type}: ${describeContent(parsed.data.message.content)}`) };
  }
  return { type, summary: type };
}

function toResult(line: z.infer<typeof resultLine>): ResultLine {
  const subtype = line.subtype ?? 'unknown';
  const errors = (line.errors ?? []).map((e) => (typeof e === 'string' ? e : JSON.stringify(e)));
  const result: ResultLine = {
    subtype,
    isError: line.is_error === true || subtype !== 'success',
    numTurns: line.num_turns ?? 0,
    costUsd: line.total_cost_usd ?? 0,
    text: line.result ?? errors.join('\n'),
  };
  if (line.session_id !== undefined) result.sessionId = line.session_id;
  if (line.duration_ms !== undefined) result.durationMs = line.duration_ms;
  return result;
}

function describeContent(content: string | z.infer<typeof block>[]): string {
  if (typeof content === 'string') return content;
  return content.map(describeBlock).filter(Boolean).join(' | ');
}

/** Tools are shown by what they touch: the file, the command, the pattern. */
function describeBlock(b: z.infer<typeof block>): string {
  switch (b.type) {
    case 'text':
      return b.text ?? '';
    case 'tool_use': {
      const target = ['file_path', 'command', 'pattern', 'path', 'url'].map((k) => b.input?.[k]).find((v) => typeof v === 'string');
      return `${b.name ?? 'tool'}${target ? ` ${String(target)}` : ''}`;
    }
    case 'tool_result':
      return b.is_error ? 'tool error' : 'tool done';
    default:
      return '';
  }
}

function clip(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return clipped(flat, SUMMARY_CHARS);
}

/**
 * Reads stdout as it arrives: splits it into lines (a chunk may end mid-line), keeps the last
 * result line and the summaries of the last few lines for a status view.
 */
export class StreamJsonReader {
  private pending = '';
  private readonly recent: string[] = [];
  private last: ResultLine | undefined;

  constructor(private readonly tailSize = DEFAULT_TAIL) {}

  /** Feeds a decoded chunk; returns the lines it completed. */
  push(chunk: string): StreamLine[] {
    this.pending += chunk;
    const parts = this.pending.split('\n');
    this.pending = parts.pop() ?? '';
    if (this.pending.length > MAX_LINE_CHARS) {
      parts.push(this.pending.slice(0, SUMMARY_CHARS));
      this.pending = '';
    }
    return this.take(parts);
  }

  /** The last line when the output ends without a newline. */
  end(): StreamLine[] {
    const rest = this.pending;
    this.pending = '';
    return this.take([rest]);
  }

  get result(): ResultLine | undefined {
    return this.last;
  }

  /** Summaries of the last lines, oldest first. */
  tail(): string[] {
    return [...this.recent];
  }

  private take(raw: string[]): StreamLine[] {
    const lines = raw.map(parseStreamLine).filter((l): l is StreamLine => l !== undefined);
    for (const line of lines) {
      if (line.result) this.last = line.result;
      this.recent.push(line.summary);
      if (this.recent.length > this.tailSize) this.recent.shift();
    }
    return lines;
  }
}
