-- Per-project PIV settings: the validation commands a loop runs when the call gives none
-- (before detection from package.json, Makefile or pyproject.toml).
CREATE TABLE piv_projects (
  project text PRIMARY KEY,
  validation_commands jsonb NOT NULL,
  updated_by text NOT NULL,
  updated_at timestamptz NOT NULL
);
