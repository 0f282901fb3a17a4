// A throwaway host for tests that go through the domain: project checkouts in a temp folder and
// an instructions root beside them; the daemon or services are pointed at the root by setting.
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Cleanups } from './fixture.js';

export interface Host {
  base: string;
  /** The instructions root (not created: init_instructions does that). */
  root: string;
  /** The settings that point the supervisor at this root. */
  env: Record<string, string>;
  dir(project: string): string;
  /** Creates the project's checkout, with its own CLAUDE.md when given; answers the directory. */
  checkout(project: string, ownClaudeMd?: string): Promise<string>;
  claude(project: string): Promise<string>;
  /** Every file under the base, with its text: for scans that nothing leaked into a file. */
  files(): Promise<Array<{ path: string; text: string }>>;
}

export async function makeHost(t: Cleanups): Promise<Host> {
  const base = await mkdtemp(join(tmpdir(), 'supervisor-instr-host-'));
  t.after(() => rm(base, { recursive: true, force: true }));
  const root = join(base, 'instructions');
  const dir = (project: string) => join(base, 'projects', project);
  return {
    base,
    root,
    env: { SUPERVISOR_INSTRUCTIONS_ROOT: root },
    dir,
    async checkout(project, own) {
      await mkdir(dir(project), { recursive: true });
      if (own !== undefined) await writeFile(join(dir(project), 'CLAUDE.md'), own);
      return dir(project);
    },
    claude: (project) => readFile(join(dir(project), 'CLAUDE.md'), 'utf8'),
    files: () => filesUnder(base),
  };
}

async function filesUnder(dir: string): Promise<Array<{ path: string; text: string }>> {
  const out: Array<{ path: string; text: string }> = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await filesUnder(path)));
    else if (entry.isFile()) out.push({ path, text: await readFile(path, 'utf8') });
  }
  return out;
}
