// Transport-level failures injected by tests: matched by service, method and path.
import type { Fault, FaultMatch, Service } from './types.js';

interface Armed {
  fault: Fault;
  match: FaultMatch;
  /** Remaining uses; undefined = forever. */
  remaining?: number;
}

export class FaultInjector {
  private armed: Armed[] = [];

  failNext(count: number, fault: Fault, match: FaultMatch = {}): void {
    if (count > 0) this.armed.push({ fault, match, remaining: count });
  }

  failAlways(fault: Fault, match: FaultMatch = {}): void {
    this.armed.push({ fault, match });
  }

  clear(): void {
    this.armed = [];
  }

  /** One-shot faults win over permanent ones. */
  take(service: Service, method: string, path: string): Fault | undefined {
    const fits = ({ match }: Armed) =>
      (match.service === undefined || match.service === service) &&
      (match.method === undefined || match.method === method) &&
      (match.pathIncludes === undefined || path.includes(match.pathIncludes));
    const counted = this.armed.find((a) => a.remaining !== undefined && fits(a));
    if (counted?.remaining !== undefined) {
      counted.remaining -= 1;
      if (counted.remaining === 0) this.armed = this.armed.filter((a) => a !== counted);
      return counted.fault;
    }
    return this.armed.find(fits)?.fault;
  }
}
