import type { Principal } from '../core/principal.js';
import { notFound } from '../core/errors.js';
import type { Endpoint } from './domain.js';
import { API_PREFIX, type Operation } from './operation.js';

/** A domain as the adapters see it: a toolset of operations. */
export interface Toolset {
  id: string;
  title: string;
  description: string;
  defaultFor: readonly Endpoint[];
  cliGroups?: readonly string[];
  operations: readonly Operation[];
}

/** All operations, by name, grouped in toolsets. Adapters read it; nothing else registers tools or routes. */
export class Catalog {
  private readonly byName = new Map<string, Operation>();
  readonly toolsets: readonly Toolset[];

  constructor(toolsets: readonly Toolset[]) {
    this.toolsets = toolsets;
    for (const op of toolsets.flatMap((t) => t.operations)) {
      if (this.byName.has(op.name)) throw new Error(`operation ${op.name} is defined twice`);
      this.byName.set(op.name, op);
    }
  }

  get(name: string): Operation | undefined {
    return this.byName.get(name);
  }

  /** The operation, or `not_found` for a name it does not know (REST's `/call/<name>` answers 404, as for an unknown route). */
  require(name: string): Operation {
    const op = this.byName.get(name);
    if (!op) throw notFound(`unknown operation "${name}"; tools/list (MCP), GET ${API_PREFIX}/openapi.json or \`supervisor --help\` list them`);
    return op;
  }

  all(): Operation[] {
    return [...this.byName.values()];
  }

  /** What a principal may call: project scopes do not see admin-only operations. */
  visibleTo(principal: Principal): Operation[] {
    return this.all().filter((op) => op.access === 'any' || principal.role === 'admin');
  }
}
