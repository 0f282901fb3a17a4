/**
 * The SQL key of a transaction advisory lock named `name` within this installation's schema.
 * Advisory locks are one namespace per database: a fixed number would make installations in
 * other schemas of the same database (every test run, two supervisors sharing a server) wait
 * for each other. `current_schema()` is the first schema of the search_path that exists; an
 * empty one still gives a key (a NULL key would lock nothing, silently).
 * `name` is a constant of the code, never input.
 */
export const schemaLockKey = (name: string): string => `hashtextextended(coalesce(current_schema(), '') || ':${name}', 0)`;
