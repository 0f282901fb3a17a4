-- Foundation: API tokens, the audit log, operation call records, and secrets.

CREATE TABLE tokens (
  id            text PRIMARY KEY,
  name          text NOT NULL,
  project       text,                      -- NULL: admin token
  secret_hash   bytea NOT NULL,            -- sha256 of the token's secret part
  created_at    timestamptz NOT NULL,
  last_used_at  timestamptz,
  revoked_at    timestamptz
);

-- Who did what to which target, and whether it was allowed. Never holds values.
CREATE TABLE audit_log (
  id       bigserial PRIMARY KEY,
  at       timestamptz NOT NULL,
  actor    text NOT NULL,
  action   text NOT NULL,
  target   text,
  outcome  text NOT NULL CHECK (outcome IN ('ok', 'denied', 'error')),
  detail   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_target_at ON audit_log (target, at);
CREATE INDEX audit_log_at ON audit_log (at);

-- One row per operation call from any interface (inputs with secret fields redacted).
CREATE TABLE operation_calls (
  id           bigserial PRIMARY KEY,
  at           timestamptz NOT NULL,
  operation    text NOT NULL,
  interface    text NOT NULL,
  actor        text NOT NULL,
  project      text,
  outcome      text NOT NULL,
  duration_ms  double precision NOT NULL,
  input        jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX operation_calls_at ON operation_calls (at);

-- Data keys, each wrapped (AES-256-GCM) by the master key named in master_key_id.
CREATE TABLE secret_keys (
  id             integer PRIMARY KEY,
  wrapped        bytea NOT NULL,
  master_key_id  text NOT NULL,
  status         text NOT NULL CHECK (status IN ('active', 'retired')),
  encryptions    bigint NOT NULL DEFAULT 0,
  created_at     timestamptz NOT NULL,
  retired_at     timestamptz
);
CREATE UNIQUE INDEX secret_keys_one_active ON secret_keys (status) WHERE status = 'active';

CREATE TABLE secrets (
  id                      bigserial PRIMARY KEY,
  path                    text NOT NULL UNIQUE,
  current_version         integer NOT NULL,
  description             text,
  tags                    text[] NOT NULL DEFAULT '{}',
  expires_at              timestamptz,
  rotation_interval_days  integer,
  value_changed_at        timestamptz NOT NULL,
  created_at              timestamptz NOT NULL,
  updated_at              timestamptz NOT NULL,
  deleted_at              timestamptz,
  last_read_at            timestamptz,
  read_count              bigint NOT NULL DEFAULT 0
);
CREATE INDEX secrets_path_pattern ON secrets (path text_pattern_ops);

CREATE TABLE secret_versions (
  secret_id   bigint NOT NULL REFERENCES secrets (id) ON DELETE CASCADE,
  version     integer NOT NULL,
  key_id      integer NOT NULL REFERENCES secret_keys (id),
  iv          bytea NOT NULL,
  ciphertext  bytea NOT NULL,              -- ciphertext followed by the 16-byte GCM tag
  size        integer NOT NULL,            -- plaintext bytes
  created_at  timestamptz NOT NULL,
  created_by  text NOT NULL,
  PRIMARY KEY (secret_id, version)
);

-- Extra paths a project may use besides project/<its name>/.
CREATE TABLE secret_grants (
  project     text NOT NULL,
  prefix      text NOT NULL,
  access      text NOT NULL CHECK (access IN ('read', 'write')),
  created_at  timestamptz NOT NULL,
  PRIMARY KEY (project, prefix)
);
