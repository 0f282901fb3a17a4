// Runs one piece of work per project so that a failure in one (a missing directory, a bad
// layer file, no write permission) is reported for that project and the others still run.
import { join } from 'node:path';
import { folderKey, throughLinks } from '../core/folder-key.js';
import type { InstructionProject } from './assemble.js';

/** Projects in flight at once: enough to overlap file I/O, few enough to stay far from EMFILE. */
const CONCURRENCY = 8;

export async function forEachProject<T>(
  projects: InstructionProject[],
  work: (project: InstructionProject) => Promise<T>,
  failed: (project: InstructionProject, reason: string) => T,
  options: {
    /** Called as each project finishes, in completion order (progress for whoever watches). */
    onDone?: (result: T) => void;
    /** The projects whose directories those of the call must not share (they themselves by default). */
    among?: InstructionProject[];
  } = {},
): Promise<T[]> {
  const among = options.among ?? projects;
  const shared = await sharing(projects, among, (p) => p.directory);
  // In folders of their own, two projects may still write one file: a CLAUDE.md linking into the other's checkout.
  const sharedFile = await sharing(projects, among, (p) => join(p.directory, 'CLAUDE.md'));
  const results = new Array<T>(projects.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < projects.length; i = next++) {
      const project = projects[i]!;
      const others = shared.get(project.name)!;
      try {
        // Two projects writing one CLAUDE.md would overwrite each other's block on every run.
        if (others.length > 0) {
          const how = throughLinks(project.directory, others.map((o) => o.directory));
          throw new Error(`its directory ${project.directory} is also the directory of ${others.map((o) => o.name).join(', ')}${how}; give each project its own`);
        }
        const sameFile = sharedFile.get(project.name)!;
        if (sameFile.length > 0) {
          throw new Error(`its CLAUDE.md is also the CLAUDE.md of ${sameFile.map((o) => o.name).join(', ')} (a link joins them), so each run would write one project's block over the other's; give each project a CLAUDE.md of its own`);
        }
        results[i] = await work(project);
      } catch (err) {
        results[i] = failed(project, err instanceof Error ? err.message : String(err));
      }
      options.onDone?.(results[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(CONCURRENCY, projects.length) }, worker));
  return results;
}

/**
 * For each project, the others of `among` whose `pathOf` is the same folder or file: the same path,
 * or another path to it (a symlink, a bind mount), told by device and inode. One that cannot be
 * looked at (not there yet) is compared by its path; its own work then says what is wrong with it.
 */
async function sharing(projects: InstructionProject[], among: InstructionProject[], pathOf: (project: InstructionProject) => string): Promise<Map<string, InstructionProject[]>> {
  const everyone = [...new Map([...among, ...projects].map((project) => [project.name, project])).values()];
  const keys = await Promise.all(everyone.map((project) => folderKey(pathOf(project))));
  const byKey = new Map<string, InstructionProject[]>();
  const keyOf = new Map<string, string>();
  everyone.forEach((project, i) => {
    keyOf.set(project.name, keys[i]!);
    byKey.set(keys[i]!, [...(byKey.get(keys[i]!) ?? []), project]);
  });
  return new Map(projects.map((project) => [project.name, byKey.get(keyOf.get(project.name)!)!.filter((other) => other.name !== project.name)]));
}
