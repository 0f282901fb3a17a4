// A throwaway host for instruction tests: an instructions root with core and meta layers, and
// project directories beside it, each in its own temp folder so test files run in parallel.
// Facts are injected (what the database would answer), never read from a database.
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/core/clock.js';
import { KeyedLock } from '../../src/core/keyed-lock.js';
import type { InstructionProject } from '../../src/instructions/assemble.js';
import { contentHash, findBlock } from '../../src/instructions/block.js';
import type { Facts } from '../../src/instructions/placeholders.js';
import type { InstructionsContext } from '../../src/instructions/regenerate.js';
import type { WrittenBlocks } from '../../src/instructions/written-blocks.js';

export const CORE = {
  '10-ports.md': '## Ports\n\nNever hard-code a port: ask `get_port` for project {{project.name}}.\n\nRange: {{ports.range}}\n',
  '20-secrets.md': '## Secrets\n\nRead credentials with `get_secret` by exact path.\n\n{{secrets.paths}}\n',
};
export const META = { '00-meta.md': '## Meta only\n\nYou run sync_tunnel for every project.\n' };

/** The bodies a database would keep (DbWrittenBlocks, by project, file and hash), in memory: the tree has no database. */
export class MemoryWrittenBlocks implements WrittenBlocks {
  readonly stored = new Map<string, string>();

  async body(project: string, file: string, hash: string): Promise<string | undefined> {
    return this.stored.get(`${project}/${file}/${hash}`);
  }

  async record(project: string, file: string, body: string): Promise<void> {
    // Map order is insertion order: a body written again goes last, as the latest.
    const key = `${project}/${file}/${contentHash(body)}`;
    this.stored.delete(key);
    this.stored.set(key, body);
  }

  async bodies(project: string, file: string): Promise<string[]> {
    return [...this.stored].filter(([key]) => key.startsWith(`${project}/${file}/`)).map(([, body]) => body).reverse();
  }
}

/** What the database would say about a project: deterministic, derived from its name. */
export function factsFor(name: string): Facts {
  return {
    portRange: { start: 4000, end: 4099 },
    services: [{ service: 'web', port: 4001, hostname: `${name}.example.com` }],
    secretPaths: [`project/${name}/database_url`],
    mcp: { url: `http://127.0.0.1:3000/mcp/${name}`, toolsets: ['secrets', 'ports'] },
  };
}

export interface TreeOptions {
  /** Project names; the first one named meta is the meta project. */
  projects?: string[];
  core?: Record<string, string>;
  meta?: Record<string, string>;
  /** A project's own CLAUDE.md before the first run; absent means no file. */
  claude?: Record<string, string>;
  /** A project's .claude-specific/ files. */
  specific?: Record<string, Record<string, string>>;
  agentsMd?: string[];
}

export interface Tree {
  base: string;
  root: string;
  projects: InstructionProject[];
  /** Facts per project; tests change them to simulate a port or secret change. */
  facts: Map<string, Facts>;
  clock: ManualClock;
  ctx: InstructionsContext;
  dir(name: string): string;
  claude(name: string): Promise<string>;
  corePath(name: string): string;
}

/** A test context, or anything that runs cleanups later (the benchmark passes its own). */
export interface Cleanups {
  after(fn: () => Promise<void>): void;
}

export async function makeTree(t: Cleanups, options: TreeOptions = {}): Promise<Tree> {
  const base = await mkdtemp(join(tmpdir(), 'supervisor-instr-'));
  t.after(async () => {
    await writableFolders(base);
    await rm(base, { recursive: true, force: true });
  });
  const root = join(base, 'instructions');
  await writeFiles(join(root, '.supervisor-core'), options.core ?? CORE);
  await writeFiles(join(root, '.supervisor-meta'), options.meta ?? META);
  const names = options.projects ?? ['meta', 'alpha', 'beta'];
  const dir = (name: string) => join(base, 'projects', name);
  const projects = names.map((name) => ({ name, directory: dir(name), isMeta: name === 'meta', agentsMd: options.agentsMd?.includes(name) ?? false }));
  for (const project of projects) {
    await mkdir(project.directory, { recursive: true });
    const own = options.claude?.[project.name];
    if (own !== undefined) await writeFile(join(project.directory, 'CLAUDE.md'), own);
    const specific = options.specific?.[project.name];
    if (specific) await writeFiles(join(project.directory, '.claude-specific'), specific);
  }
  const facts = new Map(names.map((name) => [name, factsFor(name)]));
  const clock = new ManualClock(new Date('2026-03-04T05:06:07Z'));
  const ctx: InstructionsContext = { root, clock, lock: new KeyedLock(), facts: async (p) => facts.get(p.name)!, blocks: new MemoryWrittenBlocks() };
  return {
    base,
    root,
    projects,
    facts,
    clock,
    ctx,
    dir,
    claude: (name) => readFile(join(dir(name), 'CLAUDE.md'), 'utf8'),
    corePath: (name) => join(root, '.supervisor-core', name),
  };
}

/** Tests take write permission away from folders; without it back, the temp tree could not be removed. */
async function writableFolders(dir: string): Promise<void> {
  await chmod(dir, 0o755);
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) await writableFolders(join(dir, entry.name));
  }
}

export async function writeFiles(dir: string, files: Record<string, string>): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
}

/** The file with its managed block cut out: the project's own text. */
export function outside(text: string): string {
  const found = findBlock(text);
  if (found.kind !== 'block') throw new Error(`no managed block in:\n${text}`);
  return text.slice(0, found.start) + text.slice(found.end);
}

/** The managed block's body. */
export function inside(text: string): string {
  const found = findBlock(text);
  if (found.kind !== 'block') throw new Error(`no managed block in:\n${text}`);
  return found.body;
}

export function count(haystack: string, needle: string): number {
  return haystack.split(needle).length - 1;
}
