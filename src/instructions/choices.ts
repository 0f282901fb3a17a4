// Which projects also get AGENTS.md: a per-project choice kept in the database, so a
// regeneration of every project honours what each one chose without being told again.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';

export class AgentsMdChoices {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** The projects that chose AGENTS.md. */
  async enabled(): Promise<Set<string>> {
    const { rows } = await this.db.query<{ project: string }>('SELECT project FROM instruction_projects WHERE agents_md');
    return new Set(rows.map((r) => r.project));
  }

  async set(project: string, agentsMd: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO instruction_projects (project, agents_md, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (project) DO UPDATE SET agents_md = EXCLUDED.agents_md, updated_at = EXCLUDED.updated_at`,
      [project, agentsMd, this.clock.now()],
    );
  }
}
