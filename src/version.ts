import { existsSync, readFileSync } from 'node:fs';

/** The package version, read once from package.json (two levels up from src/ or dist/). */
export const VERSION: string = (JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string }).version;

let build: string | null | undefined;

/**
 * This build's id (dist/build.json, written by the build: a hash of dist/), or undefined when
 * running from sources: the daemon records it, so a daemon left running across a rebuild is told.
 */
export function buildId(): string | undefined {
  if (build === undefined) {
    const file = new URL('./build.json', import.meta.url);
    build = existsSync(file) ? ((JSON.parse(readFileSync(file, 'utf8')) as { id?: string }).id ?? null) : null;
  }
  return build ?? undefined;
}
