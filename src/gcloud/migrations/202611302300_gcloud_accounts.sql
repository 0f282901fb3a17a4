-- Google Cloud accounts: the key itself is the secret meta/gcloud/<name>; this row is what may
-- be shown about it, and when Google last answered a call made with it.
CREATE TABLE gcloud_accounts (
  name            text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
  project_id      text NOT NULL,
  client_email    text NOT NULL,
  key_id          text NOT NULL,
  created_at      timestamptz NOT NULL,
  updated_at      timestamptz NOT NULL,
  last_success_at timestamptz,
  last_failure_at timestamptz,
  last_failure    text
);
CREATE INDEX gcloud_accounts_project ON gcloud_accounts (project_id);

-- A VM used by a supervisor project ("the VM of consilio"); goes with the project.
CREATE TABLE gcloud_vm_attachments (
  project_id    text NOT NULL,
  zone          text NOT NULL,
  instance_name text NOT NULL,
  project       text NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
  attached_at   timestamptz NOT NULL,
  attached_by   text NOT NULL,
  PRIMARY KEY (project_id, zone, instance_name)
);
CREATE INDEX gcloud_vm_attachments_project ON gcloud_vm_attachments (project);
