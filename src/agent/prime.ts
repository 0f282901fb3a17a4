// Prime: the context the agent starts from, gathered locally and deterministically (the same
// repository gives the same text): a summary of the tracked files, the start of the README, the
// package scripts, recent commits, and related knowledge from a search the caller provides.
import { readInsideIfThere } from '../core/inside.js';
import type { Commit, Git } from './git.js';

export interface PrimeContext {
  feature: string;
  /** Files per top-level folder, then the first files by name. */
  tree: string;
  fileCount: number;
  readme?: { path: string; text: string };
  scripts: Record<string, string>;
  recentCommits: Commit[];
  knowledge: string[];
}

/** Related knowledge for a feature, e.g. a full-text search of learnings from earlier loops. */
export type KnowledgeSearch = (feature: string) => Promise<string[]>;

export interface PrimeOptions {
  git: Pick<Git, 'root' | 'trackedFiles' | 'recentCommits'>;
  feature: string;
  knowledge?: KnowledgeSearch;
}

const MAX_FILES_LISTED = 200;
const README_CHARS = 4_000;
const SCRIPT_CHARS = 200;
const RECENT_COMMITS = 10;
const KNOWLEDGE_ITEMS = 5;
const KNOWLEDGE_CHARS = 1_500;

export async function prime(opts: PrimeOptions): Promise<PrimeContext> {
  const files = await opts.git.trackedFiles();
  const context: PrimeContext = {
    feature: opts.feature,
    tree: summariseTree(files),
    fileCount: files.length,
    scripts: await packageScripts(opts.git.root, files),
    recentCommits: await opts.git.recentCommits(RECENT_COMMITS),
    knowledge: ((await opts.knowledge?.(opts.feature)) ?? []).slice(0, KNOWLEDGE_ITEMS).map((k) => clip(k, KNOWLEDGE_CHARS)),
  };
  const readme = await readReadme(opts.git.root, files);
  if (readme) context.readme = readme;
  return context;
}

function summariseTree(files: string[]): string {
  const perFolder = new Map<string, number>();
  for (const file of files) {
    const slash = file.indexOf('/');
    const top = slash < 0 ? '.' : `${file.slice(0, slash)}/`;
    perFolder.set(top, (perFolder.get(top) ?? 0) + 1);
  }
  const folders = [...perFolder].sort(([a], [b]) => a.localeCompare(b)).map(([folder, n]) => `${folder} (${n} files)`);
  const listed = files.slice(0, MAX_FILES_LISTED);
  const more = files.length > listed.length ? [`… and ${files.length - listed.length} more`] : [];
  return [...folders, '', ...listed, ...more].join('\n');
}

/** A README at the top of the repository, preferring README.md; its first characters only. */
async function readReadme(root: string, files: string[]): Promise<PrimeContext['readme']> {
  const candidates = files.filter((f) => !f.includes('/') && /^readme(\.(md|markdown|rst|txt))?$/i.test(f));
  const path = candidates.find((f) => /\.md$/i.test(f)) ?? candidates[0];
  if (path === undefined) return undefined;
  const text = await readInsideIfThere(root, path, 'repository');
  return text === undefined ? undefined : { path, text: clip(text, README_CHARS) };
}

async function packageScripts(root: string, files: string[]): Promise<Record<string, string>> {
  if (!files.includes('package.json')) return {};
  try {
    const { scripts } = JSON.parse((await readInsideIfThere(root, 'package.json', 'repository')) ?? '{}') as { scripts?: Record<string, unknown> };
    return Object.fromEntries(
      Object.entries(scripts ?? {})
        .filter((e): e is [string, string] => typeof e[1] === 'string')
        .map(([name, command]) => [name, clip(command, SCRIPT_CHARS)]),
    );
  } catch {
    // Context is a help to the agent, not a gate: a broken package.json is for Validate to report.
    return {};
  }
}

/** The context as the text of the Plan prompt. */
export function renderContext(ctx: PrimeContext): string {
  const sections = [`## Files (${ctx.fileCount} tracked)\n\n${ctx.tree}`];
  if (ctx.readme) sections.push(`## ${ctx.readme.path} (start)\n\n${ctx.readme.text}`);
  const scripts = Object.entries(ctx.scripts);
  if (scripts.length > 0) sections.push(`## package.json scripts\n\n${scripts.map(([n, c]) => `- ${n}: ${c}`).join('\n')}`);
  if (ctx.recentCommits.length > 0) sections.push(`## Recent commits\n\n${ctx.recentCommits.map((c) => `- ${c.sha.slice(0, 10)} ${c.subject}`).join('\n')}`);
  if (ctx.knowledge.length > 0) sections.push(`## Related knowledge from earlier work\n\n${ctx.knowledge.map((k) => `- ${k}`).join('\n')}`);
  return sections.join('\n\n');
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}\n… (cut at ${max} characters)` : text;
}
