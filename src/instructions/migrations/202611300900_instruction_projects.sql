-- Per-project choices of the instructions domain. A row exists only once a choice was made;
-- it is a preference, not something the project owns, so it goes with the project.
CREATE TABLE instruction_projects (
  project     text PRIMARY KEY REFERENCES projects (name) ON DELETE CASCADE,
  -- Also write AGENTS.md (for agents other than Claude Code); CLAUDE.md then imports it.
  agents_md   boolean NOT NULL,
  updated_at  timestamptz NOT NULL
);
