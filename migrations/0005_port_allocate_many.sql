-- port_allocate_many: port_allocate (0004) for a batch of requests in one statement, so
-- concurrent calls of one process share a transaction, a commit and a round trip (the
-- group commit in src/ports/allocations.ts). Request k answers with a row whose i = k, as
-- port_allocate would answer it (created = false when the service already had a port), or
-- with no row when nothing could be allocated for it; the caller then works out why, as
-- for port_allocate. No preferred port here: it waits for its lock, and a wait inside a
-- shared transaction would hold every other request's locks with it, so those go alone.
-- A request the table refuses (a service name its check rejects, a project removed in
-- between) fails the whole statement; the caller then sends each request alone.
--
-- Same search (port_free_in, 0004) and the same locks as port_allocate, with one saving: consecutive requests
-- for one project and host (the caller sorts them) share one search of the range, and
-- each port taken or found claimed is removed from it, so the next request starts where
-- the last one stopped. Every request still checks under its advisory lock, with a fresh
-- snapshot, that no allocation took its port; and each query of a VOLATILE function sees
-- the rows inserted before it in this statement, so the same service twice in one batch
-- gets one port (created for the first, found for the second).
CREATE FUNCTION port_allocate_many(
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
      SELECT p.port_range INTO owned FROM projects p WHERE p.name = searched_project;
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
