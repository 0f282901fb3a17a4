-- Ports: every project owns a contiguous range, and an allocation reserves one port of
-- it for one service whether that service is running or not. The rules that keep two
-- services from ever sharing a port live here, in the database, so every writer (the
-- daemon, a second replica, a psql session) is held to them.

CREATE TABLE projects (
  name         text PRIMARY KEY,
  -- Canonical int4range: [first, last + 1).
  port_range   int4range NOT NULL CHECK (
                 NOT isempty(port_range) AND NOT lower_inf(port_range) AND NOT upper_inf(port_range)
                 AND lower(port_range) >= 1 AND upper(port_range) <= 65536),
  description  text,
  created_at   timestamptz NOT NULL,
  -- Two projects can never own the same port: GiST on a range needs no extension.
  CONSTRAINT projects_ranges_disjoint EXCLUDE USING gist (port_range WITH &&)
);

CREATE TABLE port_allocations (
  id           bigserial PRIMARY KEY,
  project      text NOT NULL REFERENCES projects (name),
  service      text NOT NULL CHECK (service ~ '^[a-z0-9][a-z0-9._-]{0,62}$'),
  -- Where the service runs; the same registry serves services spread over several VMs.
  host         text NOT NULL DEFAULT 'local',
  port         integer NOT NULL CHECK (port BETWEEN 1 AND 65535),
  protocol     text NOT NULL DEFAULT 'tcp' CHECK (protocol IN ('tcp', 'udp')),
  -- Public hostname routed to this port by the tunnel; one route per hostname.
  hostname     text,
  description  text,
  -- Part of the owner's command line; the audit flags other processes on this port.
  command      text,
  created_at   timestamptz NOT NULL,
  CONSTRAINT port_allocations_one_per_service UNIQUE (project, service, host),
  CONSTRAINT port_allocations_one_owner UNIQUE (host, port, protocol)
);
CREATE UNIQUE INDEX port_allocations_hostname ON port_allocations (hostname) WHERE hostname IS NOT NULL;
-- Lookups by host and port use port_allocations_one_owner's (host, port, …) prefix.

-- An allocation's port lies inside its project's range. A range change locks the table
-- against inserts first (see below), so this check and that one always see each other.
CREATE FUNCTION port_allocation_in_range() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  owned int4range;
BEGIN
  SELECT port_range INTO owned FROM projects WHERE name = NEW.project;
  IF owned IS NOT NULL AND NOT owned @> NEW.port THEN
    RAISE EXCEPTION 'port % is outside project %''s range %', NEW.port, NEW.project, owned
      USING ERRCODE = 'check_violation', CONSTRAINT = 'port_allocations_in_range';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER port_allocations_in_range BEFORE INSERT OR UPDATE OF project, port ON port_allocations
  FOR EACH ROW EXECUTE FUNCTION port_allocation_in_range();

-- A range may change only while it still holds every allocation of its project. SHARE
-- mode waits for inserts in flight and holds new ones until the change commits: range
-- changes are rare, allocations are not, so the cost stays on the rare side instead of
-- a row lock on the project for every allocation.
CREATE FUNCTION project_range_keeps_allocations() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  outside integer;
BEGIN
  LOCK TABLE port_allocations IN SHARE MODE;
  SELECT port INTO outside FROM port_allocations
    WHERE project = NEW.name AND NOT NEW.port_range @> port ORDER BY port LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'project % has port % allocated outside the new range %', NEW.name, outside, NEW.port_range
      USING ERRCODE = 'check_violation', CONSTRAINT = 'projects_range_keeps_allocations';
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER projects_range_keeps_allocations BEFORE UPDATE OF port_range ON projects
  FOR EACH ROW EXECUTE FUNCTION project_range_keeps_allocations();

-- Get-or-allocate in one statement: one round trip per call, and no lock held while a
-- client talks to the server. Returns the service's allocation (created = false when
-- it already had one) or no row when nothing could be allocated: the caller works out
-- why (unknown project, range exhausted, preferred port taken) off the hot path.
--
-- The lowest free port is found by walking the range alongside the sorted list of the
-- ports taken in it: the cost follows this project's allocations, not the host's.
-- Concurrency: each candidate is claimed with a transaction-level advisory try-lock,
-- so concurrent callers spread over the free ports instead of queueing on one project
-- lock; the unique constraints stay the authority (a port committed after this
-- statement's snapshot makes the INSERT do nothing, and the walk moves on). Each
-- statement of a VOLATILE function takes a fresh snapshot, so the re-reads below see
-- rows committed by the transactions we waited for.
CREATE FUNCTION port_allocate(
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
  found_row port_allocations;
  owned int4range;
  taken integer[];
  next_taken integer := 1;
  candidate integer;
  last_candidate integer;
BEGIN
  SELECT * INTO found_row FROM port_allocations WHERE project = p_project AND service = p_service AND host = p_host;
  IF FOUND THEN
    RETURN QUERY SELECT (found_row).*, false;
    RETURN;
  END IF;
  SELECT port_range INTO owned FROM projects WHERE name = p_project;
  IF owned IS NULL OR (p_preferred IS NOT NULL AND NOT owned @> p_preferred) THEN
    RETURN;
  END IF;
  candidate := COALESCE(p_preferred, lower(owned)) - 1;
  last_candidate := COALESCE(p_preferred, upper(owned) - 1);
  SELECT COALESCE(array_agg(a.port ORDER BY a.port), '{}') INTO taken FROM port_allocations a
    WHERE a.host = p_host AND a.port >= lower(owned) AND a.port < upper(owned);
  WHILE candidate < last_candidate LOOP
    candidate := candidate + 1;
    WHILE next_taken <= cardinality(taken) AND taken[next_taken] < candidate LOOP
      next_taken := next_taken + 1;
    END LOOP;
    CONTINUE WHEN (next_taken <= cardinality(taken) AND taken[next_taken] = candidate) OR candidate <@ p_excluded;
    IF p_preferred IS NULL THEN
      -- Another transaction is claiming this port right now: take the next one instead of waiting.
      CONTINUE WHEN NOT pg_try_advisory_xact_lock(hashtext(p_host), candidate);
    ELSE
      PERFORM pg_advisory_xact_lock(hashtext(p_host), candidate);
    END IF;
    -- Under the lock, with a fresh snapshot: a port number serves one service per host,
    -- whichever protocol took it first.
    CONTINUE WHEN EXISTS (SELECT 1 FROM port_allocations a WHERE a.host = p_host AND a.port = candidate);
    INSERT INTO port_allocations (project, service, host, port, protocol, hostname, description, command, created_at)
      VALUES (p_project, p_service, p_host, candidate, p_protocol, p_hostname, p_description, p_command, p_now)
      ON CONFLICT DO NOTHING
      RETURNING * INTO found_row;
    IF FOUND THEN
      INSERT INTO audit_log (at, actor, action, target, outcome, detail)
        VALUES (p_now, p_actor, 'port.allocate', p_project || '/' || p_service, 'ok',
                jsonb_build_object('host', p_host, 'port', candidate, 'protocol', p_protocol));
      RETURN QUERY SELECT (found_row).*, true;
      RETURN;
    END IF;
    -- Nothing inserted: this service got a port from a concurrent call, or the hostname
    -- is taken (the port itself was checked under the lock).
    SELECT * INTO found_row FROM port_allocations WHERE project = p_project AND service = p_service AND host = p_host;
    IF FOUND THEN
      RETURN QUERY SELECT (found_row).*, false;
      RETURN;
    END IF;
    IF p_hostname IS NOT NULL AND EXISTS (SELECT 1 FROM port_allocations WHERE hostname = p_hostname) THEN
      RETURN;
    END IF;
  END LOOP;
END $$;
