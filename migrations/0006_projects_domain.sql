-- Projects become their own domain (name, description, directory, timestamps); the port
-- range is the ports domain's data about a project. The table that held both is renamed
-- port_ranges and keeps its rows, its exclusion constraint and its triggers; the new
-- projects table takes the names and descriptions, and every function that looked a range
-- up in projects now reads port_ranges (bodies otherwise as in 0002, 0004 and 0005).
-- The last baseline migration: later ones live in their domain's folder.

ALTER TABLE projects RENAME TO port_ranges;
ALTER TABLE port_ranges RENAME COLUMN name TO project;
ALTER TABLE port_ranges RENAME CONSTRAINT projects_pkey TO port_ranges_pkey;
ALTER TABLE port_ranges RENAME CONSTRAINT projects_ranges_disjoint TO port_ranges_disjoint;

CREATE TABLE projects (
  name         text PRIMARY KEY CHECK (name ~ '^[a-z][a-z0-9-]{0,39}$'),
  description  text,
  -- The project's checkout on this host (instructions and the agent loop work in it).
  directory    text CHECK (directory IS NULL OR directory LIKE '/%'),
  created_at   timestamptz NOT NULL,
  updated_at   timestamptz NOT NULL
);
INSERT INTO projects (name, description, directory, created_at, updated_at)
  SELECT project, description, NULL, created_at, created_at FROM port_ranges;
ALTER TABLE port_ranges DROP COLUMN description;
ALTER TABLE port_ranges ADD CONSTRAINT port_ranges_project FOREIGN KEY (project) REFERENCES projects (name);

CREATE OR REPLACE FUNCTION port_allocation_in_range() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owned int4range;
BEGIN
  SELECT port_range INTO owned FROM port_ranges WHERE project = NEW.project;
  IF owned IS NOT NULL AND NOT owned @> NEW.port THEN
    RAISE EXCEPTION 'port % is outside project %''s range %', NEW.port, NEW.project, owned
      USING ERRCODE = 'check_violation', CONSTRAINT = 'port_allocations_in_range';
  END IF;
  RETURN NEW;
END $$;

CREATE OR REPLACE FUNCTION project_range_keeps_allocations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  outside integer;
BEGIN
  LOCK TABLE port_allocations IN SHARE MODE;
  SELECT port INTO outside FROM port_allocations
    WHERE project = NEW.project AND NOT NEW.port_range @> port ORDER BY port LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'project % has port % allocated outside the new range %', NEW.project, outside, NEW.port_range
      USING ERRCODE = 'check_violation', CONSTRAINT = 'port_ranges_keep_allocations';
  END IF;
  RETURN NEW;
END $$;
ALTER TRIGGER projects_range_keeps_allocations ON port_ranges RENAME TO port_ranges_keep_allocations;

CREATE OR REPLACE FUNCTION port_allocate(
  p_project text, p_service text, p_host text, p_protocol text, p_preferred integer,
  p_hostname text, p_description text, p_command text, p_excluded int4multirange,
  p_now timestamptz, p_actor text
) RETURNS TABLE (
  id bigint, project text, service text, host text, port integer, protocol text,
  hostname text, description text, command text, created_at timestamptz, created boolean
) LANGUAGE plpgsql VOLATILE AS $$
-- The output columns share the table's names; inside queries a name means the column.
#variable_conflict use_column
DECLARE
  owned int4range;
  off_limits int4multirange := COALESCE(p_excluded, '{}');
  -- Ports of the range free in the search's snapshot, exclusions removed.
  free int4multirange;
  candidate integer;
  lock_key integer := hashtext(p_host);
BEGIN
  SELECT a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
    INTO id, project, service, host, port, protocol, hostname, description, command, created_at
    FROM port_allocations a WHERE a.project = p_project AND a.service = p_service AND a.host = p_host;
  IF FOUND THEN
    created := false;
    RETURN NEXT;
    RETURN;
  END IF;
  SELECT r.port_range INTO owned FROM port_ranges r WHERE r.project = p_project;
  IF owned IS NULL THEN
    RETURN;
  END IF;

  IF p_preferred IS NOT NULL THEN
    free := int4multirange(int4range(p_preferred, p_preferred, '[]') * owned) - off_limits;
  ELSE
    free := port_free_in(owned, p_host, off_limits);
  END IF;

  candidate := lower(free);
  WHILE candidate IS NOT NULL LOOP
    IF p_preferred IS NOT NULL THEN
      PERFORM pg_advisory_xact_lock(lock_key, candidate);
    END IF;
    -- Another transaction is claiming this port right now: take the next one instead of waiting.
    IF p_preferred IS NOT NULL OR pg_try_advisory_xact_lock(lock_key, candidate) THEN
      -- Under the lock, with a fresh snapshot: a port number serves one service per host,
      -- whichever protocol took it first, and it may have been taken since the search.
      IF NOT EXISTS (SELECT 1 FROM port_allocations a WHERE a.host = p_host AND a.port = candidate) THEN
        INSERT INTO port_allocations AS a (project, service, host, port, protocol, hostname, description, command, created_at)
          VALUES (p_project, p_service, p_host, candidate, p_protocol, p_hostname, p_description, p_command, p_now)
          ON CONFLICT DO NOTHING
          RETURNING a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
          INTO id, project, service, host, port, protocol, hostname, description, command, created_at;
        IF FOUND THEN
          INSERT INTO audit_log (at, actor, action, target, outcome, detail)
            VALUES (p_now, p_actor, 'port.allocate', p_project || '/' || p_service, 'ok',
                    jsonb_build_object('host', p_host, 'port', candidate, 'protocol', p_protocol));
          created := true;
          RETURN NEXT;
          RETURN;
        END IF;
        -- Nothing inserted: this service got a port from a concurrent call, or the hostname
        -- is taken (the port itself was checked under the lock).
        SELECT a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
          INTO id, project, service, host, port, protocol, hostname, description, command, created_at
          FROM port_allocations a WHERE a.project = p_project AND a.service = p_service AND a.host = p_host;
        IF FOUND THEN
          created := false;
          RETURN NEXT;
          RETURN;
        END IF;
        IF p_hostname IS NOT NULL AND EXISTS (SELECT 1 FROM port_allocations a WHERE a.hostname = p_hostname) THEN
          RETURN;
        END IF;
      END IF;
    END IF;
    candidate := CASE WHEN candidate + 1 <@ free THEN candidate + 1
                      ELSE lower(free * int4multirange(int4range(candidate + 1, NULL))) END;
  END LOOP;
END $$;

CREATE OR REPLACE FUNCTION port_allocate_many(
  p_projects text[], p_services text[], p_hosts text[], p_protocols text[],
  p_hostnames text[], p_descriptions text[], p_commands text[],
  p_excluded int4multirange, p_now timestamptz, p_actors text[]
) RETURNS TABLE (
  i integer, id bigint, project text, service text, host text, port integer, protocol text,
  hostname text, description text, command text, created_at timestamptz, created boolean
) LANGUAGE plpgsql VOLATILE AS $$
-- The output columns share the table's names; inside queries a name means the column.
#variable_conflict use_column
DECLARE
  off_limits int4multirange := COALESCE(p_excluded, '{}');
  -- Request k.
  r_project text;
  r_service text;
  r_host text;
  r_protocol text;
  r_hostname text;
  -- The project and host `free` was searched for; NULL before the first search.
  searched_project text;
  searched_host text;
  owned int4range;
  -- Ports of the range not yet tried by this batch and free in the search's snapshot.
  free int4multirange;
  candidate integer;
  lock_key integer;
BEGIN
  FOR k IN 1 .. COALESCE(cardinality(p_projects), 0) LOOP
    i := k;
    r_project := p_projects[k];
    r_service := p_services[k];
    r_host := p_hosts[k];
    r_protocol := p_protocols[k];
    r_hostname := p_hostnames[k];
    SELECT a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
      INTO id, project, service, host, port, protocol, hostname, description, command, created_at
      FROM port_allocations a WHERE a.project = r_project AND a.service = r_service AND a.host = r_host;
    IF FOUND THEN
      created := false;
      RETURN NEXT;
      CONTINUE;
    END IF;

    IF searched_project IS DISTINCT FROM r_project OR searched_host IS DISTINCT FROM r_host THEN
      searched_project := r_project;
      searched_host := r_host;
      lock_key := hashtext(searched_host);
      SELECT r.port_range INTO owned FROM port_ranges r WHERE r.project = searched_project;
      free := CASE WHEN owned IS NULL THEN '{}' ELSE port_free_in(owned, searched_host, off_limits) END;
    END IF;

    candidate := lower(free);
    <<search>>
    WHILE candidate IS NOT NULL LOOP
      -- Another transaction is claiming this port right now: take the next one instead of waiting.
      -- The lock is re-entrant, so a port this batch locked but did not use stays a candidate.
      IF pg_try_advisory_xact_lock(lock_key, candidate)
         AND NOT EXISTS (SELECT 1 FROM port_allocations a WHERE a.host = r_host AND a.port = candidate) THEN
        INSERT INTO port_allocations AS a (project, service, host, port, protocol, hostname, description, command, created_at)
          VALUES (r_project, r_service, r_host, candidate, r_protocol, r_hostname, p_descriptions[k], p_commands[k], p_now)
          ON CONFLICT DO NOTHING
          RETURNING a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
          INTO id, project, service, host, port, protocol, hostname, description, command, created_at;
        IF FOUND THEN
          free := free - int4multirange(int4range(candidate, candidate, '[]'));
          INSERT INTO audit_log (at, actor, action, target, outcome, detail)
            VALUES (p_now, p_actors[k], 'port.allocate', r_project || '/' || r_service, 'ok',
                    jsonb_build_object('host', r_host, 'port', candidate, 'protocol', r_protocol));
          created := true;
          RETURN NEXT;
          EXIT search;
        END IF;
        -- Nothing inserted (the port stays a candidate): this service got a port from a
        -- concurrent call, or the hostname is taken.
        SELECT a.id, a.project, a.service, a.host, a.port, a.protocol, a.hostname, a.description, a.command, a.created_at
          INTO id, project, service, host, port, protocol, hostname, description, command, created_at
          FROM port_allocations a WHERE a.project = r_project AND a.service = r_service AND a.host = r_host;
        IF FOUND THEN
          created := false;
          RETURN NEXT;
          EXIT search;
        END IF;
        EXIT search WHEN r_hostname IS NOT NULL AND EXISTS (SELECT 1 FROM port_allocations a WHERE a.hostname = r_hostname);
      ELSE
        -- Being claimed by another transaction, or taken since the search: not a candidate for this batch.
        free := free - int4multirange(int4range(candidate, candidate, '[]'));
      END IF;
      candidate := lower(free * int4multirange(int4range(candidate + 1, NULL)));
    END LOOP;
  END LOOP;
END $$;
