import { existsSync, readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up from src/ or dist/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

interface BuildInfo {
  id: string;
  /** When it was built: which of two builds is the newer. */
  builtAt?: string;
}

let build: BuildInfo | null | undefined;

/** dist/build.json (written by the build: a hash of dist/ and its time), or undefined when running from sources. */
export function buildInfo(): BuildInfo | undefined {
  if (build === undefined) {
    const file = new URL('./build.json', import.meta.url);
    const read = existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as Partial<BuildInfo>) : {};
    build = typeof read.id === 'string' ? { id: read.id, ...(typeof read.builtAt === 'string' ? { builtAt: read.builtAt } : {}) } : null;
  }
  return build ?? undefined;
}

/**
 * This build's id, or undefined when running from sources: the daemon records it, so a daemon
 * left running across a rebuild is told.
 */
export function buildId(): string | undefined {
  return buildInfo()?.id;
}
