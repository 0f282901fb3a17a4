// Which projects a call covers, as the engine needs them: name, directory, meta or not, and
// whether AGENTS.md is wanted. Projects without a directory cannot have instructions here; in a
// call for every project they are set aside with the reason (the built-in `shared` has none
// unless given one), and a call naming one is refused with the next step.
import { invalidInput } from '../core/errors.js';
import { allPages } from '../core/page.js';
import { META } from '../core/names.js';
import type { Project, ProjectService } from '../projects/index.js';
import type { InstructionProject } from './assemble.js';

export interface Skipped {
  project: string;
  reason: string;
}

export interface Targets {
  projects: InstructionProject[];
  skipped: Skipped[];
  /**
   * Every project with a directory here, those of the call included: a call naming one project
   * must still see another whose directory is the same folder, or it writes that project's file.
   */
  among: InstructionProject[];
}

const PAGE = 200;

const noDirectory = (name: string) =>
  `project ${name} has no directory on this host; give it one with \`supervisor project update ${name} --directory /path/to/checkout\` (update_project over MCP)`;

export class TargetResolver {
  constructor(
    private readonly projects: Pick<ProjectService, 'list' | 'get'>,
    private readonly agentsMd: () => Promise<Map<string, boolean>>,
  ) {}

  /** One project, refused when it has no directory. */
  async one(name: string): Promise<InstructionProject> {
    const project = await this.projects.get(name);
    if (!project.directory) throw invalidInput(noDirectory(name), { project: name });
    return toTarget(project, project.directory, await this.agentsMd());
  }

  /** `name`, or every project when it is undefined. */
  async resolve(name: string | undefined): Promise<Targets> {
    const named = name === undefined ? undefined : await this.one(name);
    const [all, agentsMd] = await Promise.all([this.all(), this.agentsMd()]);
    const among = all.flatMap((project) => (project.directory ? [toTarget(project, project.directory, agentsMd)] : []));
    if (named) return { projects: [named], skipped: [], among };
    const skipped = all.filter((project) => !project.directory).map((project) => ({ project: project.name, reason: noDirectory(project.name) }));
    return { projects: among, skipped, among };
  }

  private all(): Promise<Project[]> {
    return allPages((cursor) => this.projects.list({ limit: PAGE, cursor }));
  }
}

function toTarget(project: Project, directory: string, agentsMd: Map<string, boolean>): InstructionProject {
  const chosen = agentsMd.get(project.name);
  return { name: project.name, directory, isMeta: project.name === META, ...(chosen === undefined ? {} : { agentsMd: chosen }) };
}
