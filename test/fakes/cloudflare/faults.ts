// Transport-level failures injected by tests, applied before a request reaches the API.
import { errorAnswer, fail, type Answer } from './envelope.js';
import type { Fault } from './types.js';

interface Armed {
  fault: Fault;
  pathIncludes?: string;
  /** Remaining uses; undefined = forever. */
  remaining?: number;
}

export class FaultInjector {
  private armed: Armed[] = [];

  failNext(count: number, fault: Fault, pathIncludes?: string): void {
    if (count > 0) this.armed.push({ fault, pathIncludes, remaining: count });
  }

  failAlways(fault: Fault, pathIncludes?: string): void {
    this.armed.push({ fault, pathIncludes });
  }

  clear(): void {
    this.armed = [];
  }

  /** The fault for this request path, if any; one-shot faults win over permanent ones. */
  take(path: string): Fault | undefined {
    const matches = (a: Armed) => a.pathIncludes === undefined || path.includes(a.pathIncludes);
    const counted = this.armed.find((a) => a.remaining !== undefined && matches(a));
    if (counted?.remaining !== undefined) {
      counted.remaining -= 1;
      if (counted.remaining === 0) this.armed = this.armed.filter((a) => a !== counted);
      return counted.fault;
    }
    return this.armed.find(matches)?.fault;
  }
}

/**
 * What an injected status looks like on the wire. 429 mirrors the API's throttling answer
 * (code 971 plus Retry-After). 502/503 come from Cloudflare's edge as HTML pages, not JSON, so
 * clients must cope with a non-JSON body. 500 uses the JSON envelope; the API's internal-error
 * codes vary and none was recorded, so 10001 here is only a placeholder.
 */
export function faultAnswer(fault: { status: 429; retryAfterSeconds: number } | { status: 500 | 502 | 503 }): Answer {
  if (fault.status === 429) {
    const answer = errorAnswer(fail(429, 971, 'Please wait and consider throttling your request speed'));
    return { ...answer, headers: { 'Retry-After': String(fault.retryAfterSeconds) } };
  }
  if (fault.status === 500) return errorAnswer(fail(500, 10001, 'Internal Server Error'));
  const title = fault.status === 502 ? '502 Bad Gateway' : '503 Service Temporarily Unavailable';
  return {
    status: fault.status,
    contentType: 'text/html',
    body: `<html>\n<head><title>${title}</title></head>\n<body>\n<center><h1>${title}</h1></center>\n<hr><center>cloudflare</center>\n</body>\n</html>\n`,
  };
}
