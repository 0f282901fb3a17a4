// Which projects also get AGENTS.md: a per-project choice kept in the database, so a
// regeneration of every project honours what each one chose without being told again.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';

export class AgentsMdChoices {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  /** Each project's choice, where one was made (a project without one: see planProject). */
  async chosen(): Promise<Map<string, boolean>> {
    const { rows } = await this.db.query<{ project: string; agents_md: boolean }>('SELECT project, agents_md FROM instruction_projects');
    return new Map(rows.map((r) => [r.project, r.agents_md]));
  }

  async set(project: string, agentsMd: boolean): Promise<void> {
    await this.db.query(
      `INSERT INTO instruction_projects (project, agents_md, updated_at) VALUES ($1, $2, $3)
       ON CONFLICT (project) DO UPDATE SET agents_md = EXCLUDED.agents_md, updated_at = EXCLUDED.updated_at`,
      [project, agentsMd, this.clock.now()],
    );
  }
}
