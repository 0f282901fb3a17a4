import type { Catalog, Toolset } from '../catalog/catalog.js';
import type { Endpoint } from '../catalog/domain.js';
import type { Operation } from '../catalog/operation.js';
import { invalidInput } from '../core/errors.js';
import { META } from '../core/names.js';
import type { Principal } from '../core/principal.js';

/** What a client asked for: the endpoint's default toolsets, all of them, or a list; and whether only read-only tools. */
export interface ToolSelection {
  toolsets: 'default' | 'all' | string[];
  readonly: boolean;
}

export const DEFAULT_SELECTION: ToolSelection = { toolsets: 'default', readonly: false };

/** `secrets,ports` / `all` / `default` / `default,agent` (header, query parameter or `--toolsets`). */
export function parseToolsets(text: string | undefined): ToolSelection['toolsets'] {
  const words = (text ?? '').split(',').map((w) => w.trim().toLowerCase()).filter((w) => w !== '');
  if (words.length === 0 || (words.length === 1 && words[0] === 'default')) return 'default';
  // `all` with other words stays a list, so a misspelt one beside it is refused, not hidden by it.
  return words.length === 1 && words[0] === 'all' ? 'all' : words;
}

/** X-Supervisor-Readonly / `readonly=`: a yes or a no; anything else is refused, as a misspelt toolset is (a typo must not serve the write tools). */
export function parseReadonly(text: string | undefined): boolean {
  const word = (text ?? '').trim().toLowerCase();
  if (/^(1|true|yes|on)$/.test(word)) return true;
  if (/^(|0|false|no|off)$/.test(word)) return false;
  throw invalidInput(`readonly: "${word.slice(0, 40)}" is neither yes (true, 1, on) nor no (false, 0, off)`);
}

export const endpointOf = (project: string): Endpoint => (project === META ? 'meta' : 'project');

/** Refuses toolset names the catalog does not have, with the valid ones: checked when a session starts, not at its first call. */
export function checkToolsets(catalog: Catalog, toolsets: ToolSelection['toolsets']): void {
  if (!Array.isArray(toolsets)) return;
  const all = catalog.toolsets;
  const unknown = toolsets.filter((id) => id !== 'default' && id !== 'all' && !all.some((t) => t.id === id));
  if (unknown.length > 0) {
    throw invalidInput(`unknown toolset ${unknown.join(', ')}; valid toolsets: ${all.map((t) => t.id).join(', ')} (or all, or default plus others)`, { unknown, valid: all.map((t) => t.id) });
  }
}

/**
 * The toolsets and tools an MCP endpoint serves: the chosen toolsets (or the
 * endpoint's defaults), then only what the principal may call, then only
 * read-only tools when asked. An unknown toolset is refused with the valid ones.
 */
export function selectTools(catalog: Catalog, principal: Principal, endpoint: Endpoint, selection: ToolSelection): { toolsets: Toolset[]; tools: Operation[] } {
  const all = catalog.toolsets;
  let toolsets: Toolset[];
  if (selection.toolsets === 'all') toolsets = [...all];
  else if (selection.toolsets === 'default') toolsets = all.filter((t) => t.defaultFor.includes(endpoint));
  else {
    const wanted = selection.toolsets;
    checkToolsets(catalog, wanted);
    // `default` among others: the endpoint's defaults and those named.
    const withDefaults = wanted.includes('default');
    toolsets = wanted.includes('all') ? [...all] : all.filter((t) => wanted.includes(t.id) || (withDefaults && t.defaultFor.includes(endpoint)));
  }
  const visible = new Set(catalog.visibleTo(principal));
  const tools = toolsets.flatMap((t) => t.operations).filter((op) => visible.has(op) && (!selection.readonly || op.annotations.readOnlyHint));
  return { toolsets, tools };
}

/** A snake_case word: how tools are named in a toolset's description. */
const TOOL_WORD = /\b[a-z]+(?:_[a-z]+)+\b/g;

/**
 * A toolset's description without its sentences (or `;` clauses) that name a tool this session is
 * not given: a project token on the instructions toolset was told to call write_instruction_layer,
 * a read-only session to call get_port, and each call was refused.
 */
function describeServed(description: string, tools: ReadonlySet<string>, served: ReadonlySet<string>): string {
  const parts = description.split(/(?<=[.;])\s+/);
  const names = (part: string) => (part.match(TOOL_WORD) ?? []).some((word) => tools.has(word) && !served.has(word));
  // A clause whose next one goes ends its sentence there.
  return parts
    .map((part, i) => (names(part) ? '' : i + 1 < parts.length && names(parts[i + 1]!) ? part.replace(/;$/, '.') : part))
    .filter((part) => part !== '')
    .join(' ')
    .replace(/;$/, '.');
}

/**
 * The server's instructions: who it serves, then one line per enabled toolset, naming only tools
 * in `served`; `tools` is every tool name there is (other snake_case words are left alone).
 */
export function instructionsFor(
  project: string,
  toolsets: readonly Toolset[],
  others: readonly Toolset[],
  names: { tools: ReadonlySet<string>; served: ReadonlySet<string> },
): string {
  const scope = project === META ? 'Supervisor meta server: infrastructure for all projects (admin).' : `Supervisor server for project ${project}: its secrets are under project/${project}/.`;
  const more = others.length > 0 ? `More toolsets on request (X-Supervisor-Toolsets header, or --toolsets over stdio): ${others.map((t) => t.id).join(', ')}.` : '';
  const described = toolsets.map((t) => describeServed(t.description, names.tools, names.served));
  return [scope, ...described, 'List tools return pages: pass nextCursor back as cursor.', more].filter((l) => l !== '').join('\n');
}
