// The body each managed block was last written with. A block's marker records only its hash;
// this keeps the text itself, so a hand edit can be told from layer text changed since.
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import type { ManagedFileName } from './assemble.js';
import { contentHash } from './block.js';

export interface WrittenBlocks {
  /** The body written into `file` whose hash is `hash`, if it is one on record. */
  body(project: string, file: ManagedFileName, hash: string): Promise<string | undefined>;
  /** Records a body about to be written into `file` (or found there, current). */
  record(project: string, file: ManagedFileName, body: string): Promise<void>;
  /** The bodies on record for `file`, the last written first. */
  bodies(project: string, file: ManagedFileName): Promise<string[]>;
}

/** Bodies kept per file: enough for the branches a checkout is switched between. */
const KEPT_PER_FILE = 20;

export class DbWrittenBlocks implements WrittenBlocks {
  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {}

  async body(project: string, file: ManagedFileName, hash: string): Promise<string | undefined> {
    const { rows } = await this.db.query<{ body: string }>('SELECT body FROM instruction_blocks WHERE project = $1 AND file = $2 AND hash = $3', [project, file, hash]);
    return rows[0]?.body;
  }

  async bodies(project: string, file: ManagedFileName): Promise<string[]> {
    const { rows } = await this.db.query<{ body: string }>('SELECT body FROM instruction_blocks WHERE project = $1 AND file = $2 ORDER BY written_at DESC, hash', [project, file]);
    return rows.map((r) => r.body);
  }

  async record(project: string, file: ManagedFileName, body: string): Promise<void> {
    // A body already on record is not written again: a regeneration of unchanged projects writes nothing.
    const { rowCount } = await this.db.query(
      `INSERT INTO instruction_blocks (project, file, hash, body, written_at) VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project, file, hash) DO NOTHING`,
      [project, file, contentHash(body), body, this.clock.now()],
    );
    if (!rowCount) return;
    await this.db.query(
      `DELETE FROM instruction_blocks WHERE project = $1 AND file = $2
         AND hash NOT IN (SELECT hash FROM instruction_blocks WHERE project = $1 AND file = $2 ORDER BY written_at DESC, hash LIMIT $3)`,
      [project, file, KEPT_PER_FILE],
    );
  }
}
