-- The toy domain's one table: who it greeted.
CREATE TABLE toy_greetings (
  id bigserial PRIMARY KEY,
  name text NOT NULL
);
