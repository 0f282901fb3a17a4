// HTTP pieces every fake server here needs, whatever service it stands for: reading a
// request body, logging it, writing an answer, matching a path against a pattern.
import type { IncomingMessage, ServerResponse } from 'node:http';

export interface Answer {
  status: number;
  /** Serialised as JSON unless it is a string (HTML error pages of the services' front ends). */
  body: unknown;
  headers?: Record<string, string>;
  contentType?: string;
}

export async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** For a call log: the parsed body when it is JSON, the raw text otherwise. */
export function looseJson(raw: string): unknown {
  if (raw === '') return undefined;
  try {
    return JSON.parse(raw) as unknown;
  } catch {
    return raw;
  }
}

/** Writes `answer`; `contentType` is what the service sends for JSON when the answer names none. */
export function sendAnswer(res: ServerResponse, answer: Answer, contentType: string): void {
  const text = typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
  res.writeHead(answer.status, {
    'Content-Type': answer.contentType ?? contentType,
    'Content-Length': Buffer.byteLength(text),
    ...answer.headers,
  });
  res.end(text);
}

/** Path segments matched against a pattern's, where `:name` segments capture. */
export function matchSegments(pattern: string[], parts: string[]): Record<string, string> | undefined {
  if (pattern.length !== parts.length) return undefined;
  const params: Record<string, string> = {};
  for (const [i, segment] of pattern.entries()) {
    const part = parts[i] ?? '';
    if (segment.startsWith(':')) params[segment.slice(1)] = decodeURIComponent(part);
    else if (segment !== part) return undefined;
  }
  return params;
}
