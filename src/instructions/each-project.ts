// Runs one piece of work per project so that a failure in one (a missing directory, a bad
// layer file, no write permission) is reported for that project and the others still run.
import { resolve } from 'node:path';
import type { InstructionProject } from './assemble.js';

/** Projects in flight at once: enough to overlap file I/O, few enough to stay far from EMFILE. */
const CONCURRENCY = 8;

export async function forEachProject<T>(
  projects: InstructionProject[],
  work: (project: InstructionProject) => Promise<T>,
  failed: (project: InstructionProject, reason: string) => T,
  /** Called as each project finishes, in completion order (progress for whoever watches). */
  onDone?: (result: T) => void,
): Promise<T[]> {
  const shared = sharedDirectories(projects);
  const results = new Array<T>(projects.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < projects.length; i = next++) {
      const project = projects[i]!;
      const others = shared.get(resolve(project.directory))!.filter((name) => name !== project.name);
      try {
        // Two projects writing one CLAUDE.md would overwrite each other's block on every run.
        if (others.length > 0) throw new Error(`its directory ${project.directory} is also the directory of ${others.join(', ')}; give each project its own`);
        results[i] = await work(project);
      } catch (err) {
        results[i] = failed(project, err instanceof Error ? err.message : String(err));
      }
      onDone?.(results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, projects.length) }, worker));
  return results;
}

function sharedDirectories(projects: InstructionProject[]): Map<string, string[]> {
  const byDirectory = new Map<string, string[]>();
  for (const project of projects) {
    const key = resolve(project.directory);
    byDirectory.set(key, [...(byDirectory.get(key) ?? []), project.name]);
  }
  return byDirectory;
}
