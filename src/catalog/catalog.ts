import type { Principal } from '../auth/principal.js';
import type { Operation } from './operation.js';

/** All operations, by name. Adapters read it; nothing else registers tools or routes. */
export class Catalog {
  private readonly byName = new Map<string, Operation>();

  constructor(operations: Operation[]) {
    for (const op of operations) {
      if (this.byName.has(op.name)) throw new Error(`operation ${op.name} is defined twice`);
      this.byName.set(op.name, op);
    }
  }

  get(name: string): Operation | undefined {
    return this.byName.get(name);
  }

  all(): Operation[] {
    return [...this.byName.values()];
  }

  /** What a principal may call: project scopes do not see admin-only operations. */
  visibleTo(principal: Principal): Operation[] {
    return this.all().filter((op) => op.access === 'any' || principal.role === 'admin');
  }
}
