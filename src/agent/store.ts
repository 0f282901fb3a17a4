// Where a loop keeps what it has done, so it can be inspected while it runs and resumed after
// the supervisor restarts. The loop saves its whole state after every phase; texts too large
// or too many for the state (the context, the plan, validation output, agent transcripts) are
// named artifacts; the progress log is append-only.
import type { PivState, ProgressEntry } from './model.js';

export interface PivStore {
  /** Inserts or replaces the loop's state. */
  save(state: PivState): Promise<void>;
  load(id: string): Promise<PivState | undefined>;
  /**
   * Inserts or replaces a named text: `context`, `plan`, `plan-agent`, `implement-<n>-agent`,
   * `validation-<n>` (n is the implement attempt).
   */
  putArtifact(id: string, name: string, text: string): Promise<void>;
  getArtifact(id: string, name: string): Promise<string | undefined>;
  log(id: string, entry: ProgressEntry): Promise<void>;
}

/** For tests and the demo. Copies on the way in and out, as a database would. */
export class MemoryPivStore implements PivStore {
  private readonly states = new Map<string, PivState>();
  private readonly artifacts = new Map<string, Map<string, string>>();
  private readonly logs = new Map<string, ProgressEntry[]>();

  async save(state: PivState): Promise<void> {
    this.states.set(state.id, structuredClone(state));
  }

  async load(id: string): Promise<PivState | undefined> {
    const state = this.states.get(id);
    return state && structuredClone(state);
  }

  async putArtifact(id: string, name: string, text: string): Promise<void> {
    const named = this.artifacts.get(id) ?? new Map<string, string>();
    named.set(name, text);
    this.artifacts.set(id, named);
  }

  async getArtifact(id: string, name: string): Promise<string | undefined> {
    return this.artifacts.get(id)?.get(name);
  }

  async log(id: string, entry: ProgressEntry): Promise<void> {
    this.logs.set(id, [...(this.logs.get(id) ?? []), { ...entry }]);
  }

  /** The progress log, oldest first. */
  progress(id: string): ProgressEntry[] {
    return [...(this.logs.get(id) ?? [])];
  }

  artifactNames(id: string): string[] {
    return [...(this.artifacts.get(id)?.keys() ?? [])];
  }
}
