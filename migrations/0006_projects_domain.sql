-- Projects become their own domain (name, description, directory, timestamps); the port
-- range is the ports domain's data about a project. The table that held both is renamed
-- port_ranges and keeps its rows, its exclusion constraint and its triggers; the new
-- projects table takes the names and descriptions, and every function that looked a range
-- up in projects now reads port_ranges. The last baseline migration: later ones live in
-- their domain's folder.

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

-- The four functions that read a project's range are re-created from their own current
-- definitions with the lookup pointed at port_ranges: their logic (0002, 0004, 0005) stays
-- exactly as it is, and a definition that does not contain the expected lookup stops the
-- migration instead of being left half-converted.
DO $$
DECLARE
  change record;
  definition text;
BEGIN
  FOR change IN SELECT * FROM (VALUES
    ('port_allocate', 'SELECT p.port_range INTO owned FROM projects p WHERE p.name = p_project;',
                      'SELECT r.port_range INTO owned FROM port_ranges r WHERE r.project = p_project;'),
    ('port_allocate_many', 'SELECT p.port_range INTO owned FROM projects p WHERE p.name = searched_project;',
                           'SELECT r.port_range INTO owned FROM port_ranges r WHERE r.project = searched_project;'),
    ('port_allocation_in_range', 'SELECT port_range INTO owned FROM projects WHERE name = NEW.project;',
                                 'SELECT port_range INTO owned FROM port_ranges WHERE project = NEW.project;'),
    ('project_range_keeps_allocations', 'NEW.name', 'NEW.project')
  ) AS c(fn, old_text, new_text) LOOP
    SELECT pg_get_functiondef(p.oid) INTO definition FROM pg_proc p
      WHERE p.proname = change.fn AND p.pronamespace = current_schema()::regnamespace;
    IF definition IS NULL OR position(change.old_text IN definition) = 0 THEN
      RAISE EXCEPTION 'migration 0006: function % does not read projects as expected', change.fn;
    END IF;
    EXECUTE replace(definition, change.old_text, change.new_text);
  END LOOP;
  -- The error the range trigger raises names its constraint after the new table.
  SELECT pg_get_functiondef(p.oid) INTO definition FROM pg_proc p
    WHERE p.proname = 'project_range_keeps_allocations' AND p.pronamespace = current_schema()::regnamespace;
  EXECUTE replace(definition, 'projects_range_keeps_allocations', 'port_ranges_keep_allocations');
END $$;
ALTER TRIGGER projects_range_keeps_allocations ON port_ranges RENAME TO port_ranges_keep_allocations;
