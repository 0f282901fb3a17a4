-- A resize under way: written before the VM is stopped, removed when the resize has ended either
-- way. A row whose daemon is gone is a resize cut off midway (kill -9, a crash, the host down):
-- the next start of a daemon finds it and puts a VM that was running back to running.
CREATE TABLE gcloud_resizes_in_flight (
  project_id   text NOT NULL,
  zone         text NOT NULL,
  instance     text NOT NULL,
  account      text NOT NULL,
  from_type    text NOT NULL,
  to_type      text NOT NULL,
  was_running  boolean NOT NULL,
  started_at   timestamptz NOT NULL,
  owner        text NOT NULL,
  PRIMARY KEY (project_id, zone, instance)
);
