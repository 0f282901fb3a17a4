-- One value a minute per VM and metric (percent), as Cloud Monitoring aligned it; kept for
-- history and charts, pruned after SUPERVISOR_GCLOUD_SAMPLE_RETENTION_DAYS.
CREATE TABLE gcloud_health_samples (
  project_id    text NOT NULL,
  zone          text NOT NULL,
  instance_name text NOT NULL,
  metric        text NOT NULL CHECK (metric IN ('cpu', 'memory', 'disk')),
  at            timestamptz NOT NULL,
  value         double precision NOT NULL,
  PRIMARY KEY (project_id, zone, instance_name, metric, at)
);
CREATE INDEX gcloud_health_samples_at ON gcloud_health_samples (at);

-- The auto-scaler's policy for one VM: off, recommend (record only) or act; the ladder of
-- machine types it may move along; overrides of the default thresholds.
CREATE TABLE gcloud_autoscale_policies (
  project_id     text NOT NULL,
  zone           text NOT NULL,
  instance_name  text NOT NULL,
  mode           text NOT NULL CHECK (mode IN ('off', 'recommend', 'act')),
  ladder         text[] NOT NULL,
  rules          jsonb NOT NULL,
  -- The last machine-type change of this VM made through the supervisor (cooldown).
  last_change_at timestamptz,
  created_at     timestamptz NOT NULL,
  updated_at     timestamptz NOT NULL,
  updated_by     text NOT NULL,
  PRIMARY KEY (project_id, zone, instance_name)
);

-- Every evaluation: what the auto-scaler saw, what it decided and why, and what came of it.
CREATE TABLE gcloud_autoscale_evaluations (
  id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  at            timestamptz NOT NULL,
  project_id    text NOT NULL,
  zone          text NOT NULL,
  instance_name text NOT NULL,
  mode          text NOT NULL,
  machine_type  text,
  action        text NOT NULL CHECK (action IN ('up', 'down', 'none')),
  target        text,
  rule          text NOT NULL,
  reason        text NOT NULL,
  -- resized, recommended, nothing, failed
  outcome       text NOT NULL,
  error         text,
  inputs        jsonb NOT NULL
);
CREATE INDEX gcloud_autoscale_evaluations_vm ON gcloud_autoscale_evaluations (project_id, instance_name, id);
