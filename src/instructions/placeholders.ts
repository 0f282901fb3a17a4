// Live facts in instruction layers. The syntax is deliberately tiny:
//
//   {{project.name}}     a value from PLACEHOLDERS (spaces inside the braces are allowed)
//   \{{anything}}        the literal text {{anything}} (e.g. GitHub Actions' ${{ secrets.X }})
//
// Lists (services, secrets) come preformatted as Markdown bullet lines, so templates need no
// loops. A name that is not in the table is an error, never left in the output: a typo would
// otherwise reach every agent as literal braces.
import { cliByPath } from '../core/cli-path.js';
import { invalidInput } from '../core/errors.js';
import { byCodeUnits } from '../core/order.js';

/**
 * What the database knows about one project, as its instructions may show it. Secrets are
 * paths only: this type has no place for a value, so none can reach a generated file.
 */
export interface Facts {
  /** The project's port range; absent while it has none. */
  portRange?: { start: number; end: number };
  services: Array<{ service: string; port: number; hostname?: string }>;
  /** Paths of the secrets the project reads, e.g. project/consilio/database_url. */
  secretPaths: string[];
  /** The project's MCP endpoint and the toolsets it serves. */
  mcp: { url: string; toolsets: string[] };
}

export interface ProjectIdentity {
  name: string;
  directory: string;
}

interface Placeholder {
  doc: string;
  value: (project: ProjectIdentity, facts: Facts) => string;
  /** For a live fact another domain keeps: where it is changed (a hand edit of its line in CLAUDE.md is not). */
  changedWith?: string;
}

const NONE = '- (none yet)';
const bullets = (items: string[]) => (items.length === 0 ? NONE : items.map((item) => `- ${item}`).join('\n'));

/** Secret paths listed one by one up to this many; past it a folder of more than FOLDER_LISTED is one bullet. */
const PATHS_LISTED = 40;
const FOLDER_LISTED = 5;

/**
 * The secret paths as bullets. Thousands of them (an imported .env per environment) made a
 * CLAUDE.md of thousands of lines, which every agent session reads: past PATHS_LISTED a folder
 * holding many is one bullet with its count, and list_secrets names them.
 */
function secretBullets(paths: readonly string[]): string[] {
  const sorted = [...paths].sort(byCodeUnits);
  if (sorted.length <= PATHS_LISTED) return sorted;
  const folders = new Map<string, string[]>();
  for (const path of sorted) {
    const folder = path.slice(0, path.lastIndexOf('/') + 1);
    // Pushed, not copied: a copy per path made 50,000 secrets in one folder take minutes.
    const items = folders.get(folder);
    if (items) items.push(path);
    else folders.set(folder, [path]);
  }
  const many = (items: string[]) => items.length > FOLDER_LISTED;
  return [...folders].flatMap(([folder, items]) => (many(items) ? [`${folder} (${items.length} secrets directly in it; \`list_secrets\` with prefix ${folder} and recursive false names them)`] : items));
}

const PORTS = "the project's port allocations (allocate_port, release_port)";
const MCP = "the daemon's address (SUPERVISOR_HOST, SUPERVISOR_PORT) and the toolsets its domains serve";

export const PLACEHOLDERS: Record<string, Placeholder> = {
  'project.name': { doc: 'the project name', value: (p) => p.name },
  'project.directory': { doc: "the project's directory on this host", value: (p) => p.directory },
  'ports.range': {
    doc: 'the port range, e.g. 4000-4099, or "none yet"',
    changedWith: PORTS,
    value: (_, f) => (f.portRange ? `${f.portRange.start}-${f.portRange.end}` : 'none yet'),
  },
  'ports.services': {
    doc: 'one bullet per service: "- web: 4001 (web.example.com)"',
    changedWith: PORTS,
    value: (_, f) =>
      bullets(
        [...f.services]
          .sort((a, b) => byCodeUnits(a.service, b.service))
          .map((s) => `${s.service}: ${s.port}${s.hostname ? ` (${s.hostname})` : ''}`),
      ),
  },
  'secrets.paths': { doc: `one bullet per secret path (names only, never values); past ${PATHS_LISTED}, folders of many as one bullet each`, value: (_, f) => bullets(secretBullets(f.secretPaths)), changedWith: 'the secrets (set_secret, delete_secret)' },
  'mcp.url': { doc: "the project's MCP endpoint", value: (_, f) => f.mcp.url, changedWith: MCP },
  'mcp.toolsets': { doc: 'the toolsets that endpoint serves, comma-separated', value: (_, f) => f.mcp.toolsets.join(', ') || 'none', changedWith: MCP },
  'supervisor.command': { doc: 'the supervisor CLI on this host: node and its entry by absolute path, so it works in any shell', value: () => cliByPath() },
};

/** `{{ name }}`, optionally escaped with a backslash; no braces or line breaks inside. */
const PATTERN = /\\?\{\{([^{}\n]*)\}\}/g;

/**
 * `text` as layer text that renders back to exactly `text`: each `{{…}}` the renderer would take
 * for a placeholder (or an escaped one) gets a backslash; other braces stay as they are.
 */
export const escapePlaceholders = (text: string): string => text.replace(PATTERN, (match) => `\\${match}`);

export interface UnknownPlaceholder {
  name: string;
  line: number;
}

/** A rendered line that shows a live fact, and where that fact is changed. */
export type FactLines = Map<string, string>;

/**
 * Fills every placeholder of `text`; the names not in `values` are returned, not filled. The
 * lines holding a live fact's value are noted with where it is changed.
 */
function fill(text: string, values: ReadonlyMap<string, string>): { text: string; unknown: UnknownPlaceholder[]; factLines: FactLines } {
  const unknown: UnknownPlaceholder[] = [];
  const spans: Array<{ start: number; end: number; changedWith: string }> = [];
  let out = '';
  let last = 0;
  for (const match of text.matchAll(PATTERN)) {
    out += text.slice(last, match.index);
    last = match.index + match[0].length;
    if (match[0].startsWith('\\')) {
      out += match[0].slice(1);
      continue;
    }
    const name = match[1]!.trim();
    const value = values.get(name);
    if (value === undefined) {
      unknown.push({ name, line: lineAt(text, match.index) });
      out += match[0];
      continue;
    }
    const changedWith = PLACEHOLDERS[name]?.changedWith;
    if (changedWith) spans.push({ start: out.length, end: out.length + value.length, changedWith });
    out += value;
  }
  out += text.slice(last);
  return { text: out, unknown, factLines: linesOf(out, spans) };
}

/** The whole lines (trailing spaces dropped, as the block has them) each span touches. */
function linesOf(text: string, spans: Array<{ start: number; end: number; changedWith: string }>): FactLines {
  const lines: FactLines = new Map();
  for (const span of spans) {
    const from = text.lastIndexOf('\n', span.start - 1) + 1;
    const next = text.indexOf('\n', span.end);
    for (const line of text.slice(from, next === -1 ? text.length : next).split('\n')) if (line.trim() !== '') lines.set(line.trimEnd(), span.changedWith);
  }
  return lines;
}

const lineAt = (text: string, offset: number) => text.slice(0, offset).split('\n').length;

/** The placeholders of `text` that no project could fill (checked when a layer file is written). */
export function unknownPlaceholders(text: string): UnknownPlaceholder[] {
  const names = new Map(Object.keys(PLACEHOLDERS).map((name) => [name, name]));
  return fill(text, names).unknown;
}

/**
 * Renders layer files for one project. Every unknown placeholder of every file goes into one
 * error, so a person fixes them all in one pass instead of one per run.
 */
export function renderLayers(files: Array<{ source: string; text: string }>, project: ProjectIdentity, facts: Facts): string[] {
  return renderWithFacts(files, project, facts).texts;
}

/** renderLayers, and the rendered lines that show live facts. */
export function renderWithFacts(files: Array<{ source: string; text: string }>, project: ProjectIdentity, facts: Facts): { texts: string[]; factLines: FactLines } {
  const values = new Map(Object.entries(PLACEHOLDERS).map(([name, p]) => [name, p.value(project, facts)]));
  const rendered = files.map((file) => ({ source: file.source, ...fill(file.text, values) }));
  const unknown = rendered.flatMap((r) => r.unknown.map((u) => `{{${u.name}}} in ${r.source} line ${u.line}`));
  if (unknown.length > 0) {
    throw invalidInput(`unknown placeholders: ${unknown.join(', ')}. ${knownPlaceholdersHint()}`, { unknown });
  }
  return { texts: rendered.map((r) => r.text), factLines: new Map(rendered.flatMap((r) => [...r.factLines])) };
}

export function knownPlaceholdersHint(): string {
  return `Known: ${Object.keys(PLACEHOLDERS).map((name) => `{{${name}}}`).join(', ')}; write \\{{ for literal braces.`;
}
