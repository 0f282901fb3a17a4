-- Task timing: every task started, completed or failed, by agents and by the PIV loop (its runs
-- and phases). Durations of finished tasks are what get_task_stats and estimate_task read.
CREATE TABLE tasks (
  id text PRIMARY KEY,
  type text NOT NULL,
  project text NOT NULL,
  description text NOT NULL DEFAULT '',
  complexity text NOT NULL CHECK (complexity IN ('simple', 'medium', 'complex')),
  status text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'succeeded', 'failed')),
  started_at timestamptz NOT NULL,
  finished_at timestamptz,
  duration_ms bigint CHECK (duration_ms >= 0),
  error text,
  started_by text NOT NULL
);
CREATE INDEX tasks_type_project ON tasks (type, project, complexity) WHERE status = 'succeeded';
CREATE INDEX tasks_project ON tasks (project);
