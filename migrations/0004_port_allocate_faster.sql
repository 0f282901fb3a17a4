-- port_allocate with the same contract as in 0002 (signature, results, locks), but the
-- lowest free port is found by set-based queries instead of a walk in PL/pgSQL:
--
-- * 0002 loaded every taken port of the range into an array and stepped through it one
--   port per loop turn, a PL/pgSQL statement or two per allocated port of the project.
--   Here one aggregate over the range's index entries (count and highest port) tells
--   whether the range is allocated without holes up to its highest port, the usual case;
--   the free ports are then those above it. Only with holes (releases, a preferred port
--   above the rest, calls still in flight) does a window query list the gaps.
-- * The loop visits free candidates only and steps to the next one with a multirange
--   operation, so excluded spans (the ephemeral range) are skipped whole.
-- * Rows go out through the output parameters (RETURN NEXT) instead of one more query.
--
-- Concurrency is unchanged: each candidate is claimed with a transaction-level advisory
-- try-lock (a preferred port waits for its lock instead), and under the lock a fresh
-- snapshot checks that no allocation, of either protocol, took the port since the search.
-- The unique constraints stay the authority.
-- The ports of `p_owned` that no allocation on `p_host` holds in the caller's snapshot, with
-- the exclusions removed. Shared by port_allocate and port_allocate_many (0005).
-- VOLATILE like its callers, so its queries see the rows their statement inserted before.
CREATE FUNCTION port_free_in(p_owned int4range, p_host text, p_off_limits int4multirange)
RETURNS int4multirange LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  taken integer;
  top integer;
  other_protocols integer;
  gaps int4multirange;
BEGIN
  -- No holes up to the top when there are as many rows as ports below it. Rows, not ports:
  -- with udp in the range a port could be counted twice (once per protocol, which only a
  -- hand-made row can do), so then the general path decides.
  SELECT count(*), max(a.port), count(*) FILTER (WHERE a.protocol <> 'tcp') INTO taken, top, other_protocols
    FROM port_allocations a WHERE a.host = p_host AND a.port >= lower(p_owned) AND a.port < upper(p_owned);
  IF taken = 0 THEN
    RETURN int4multirange(p_owned) - p_off_limits;
  END IF;
  IF taken = top + 1 - lower(p_owned) AND other_protocols = 0 AND NOT (int4range(lower(p_owned), top, '[]') && p_off_limits) THEN
    RETURN int4multirange(int4range(top + 1, upper(p_owned))) - p_off_limits;
  END IF;
  SELECT range_agg(int4range(s.prev + 1, s.port)) FILTER (WHERE s.port > s.prev + 1) INTO gaps
    FROM (SELECT a.port, lag(a.port, 1, lower(p_owned) - 1) OVER (ORDER BY a.port) AS prev
            FROM port_allocations a WHERE a.host = p_host AND a.port >= lower(p_owned) AND a.port <= top) s;
  RETURN (COALESCE(gaps, '{}') + int4multirange(int4range(top + 1, upper(p_owned)))) - p_off_limits;
END $$;

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
  SELECT p.port_range INTO owned FROM projects p WHERE p.name = p_project;
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
