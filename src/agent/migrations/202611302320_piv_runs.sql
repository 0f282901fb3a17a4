-- PIV loops: one row per loop with its whole state (JSON, saved after every phase so a loop
-- resumes after a restart), its artifacts (context, plan, agent transcripts, validation output)
-- and its progress log. One queued or running loop per project, settled by the database.
CREATE TABLE piv_runs (
  id text PRIMARY KEY,
  seq bigserial NOT NULL UNIQUE,
  project text NOT NULL,
  feature text NOT NULL,
  branch text NOT NULL DEFAULT '',
  status text NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed', 'cancelled', 'interrupted')),
  phase text NOT NULL DEFAULT 'prime',
  state jsonb,
  -- The daemon running it (host:pid:start) and its current agent's process group (pid:start).
  owner text,
  agent_group text,
  created_by text NOT NULL,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  finished_at timestamptz
);
CREATE UNIQUE INDEX piv_runs_one_active_per_project ON piv_runs (project) WHERE status IN ('queued', 'running');
CREATE INDEX piv_runs_status ON piv_runs (status, seq);

CREATE TABLE piv_artifacts (
  run_id text NOT NULL REFERENCES piv_runs (id) ON DELETE CASCADE,
  name text NOT NULL,
  text text NOT NULL,
  updated_at timestamptz NOT NULL,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE piv_log (
  id bigserial PRIMARY KEY,
  run_id text NOT NULL REFERENCES piv_runs (id) ON DELETE CASCADE,
  at timestamptz NOT NULL,
  phase text NOT NULL,
  message text NOT NULL
);
CREATE INDEX piv_log_run ON piv_log (run_id, id);
