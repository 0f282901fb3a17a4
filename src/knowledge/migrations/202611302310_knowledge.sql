-- Local knowledge search: documents (notes, learnings of finished PIV loops) cut into chunks,
-- each with a full-text vector (title weighted above text) in a GIN index. Plain PostgreSQL
-- full-text search, so PGlite and the server answer the same.
CREATE TABLE knowledge_docs (
  id bigserial PRIMARY KEY,
  project text NOT NULL,
  title text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  source text NOT NULL DEFAULT 'manual',
  created_by text NOT NULL,
  created_at timestamptz NOT NULL
);
CREATE INDEX knowledge_docs_project ON knowledge_docs (project, id);

CREATE TABLE knowledge_chunks (
  id bigserial PRIMARY KEY,
  doc_id bigint NOT NULL REFERENCES knowledge_docs (id) ON DELETE CASCADE,
  project text NOT NULL,
  chunk_index integer NOT NULL,
  title text NOT NULL,
  text text NOT NULL,
  tags text[] NOT NULL DEFAULT '{}',
  search tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', text), 'B')) STORED,
  UNIQUE (doc_id, chunk_index)
);
CREATE INDEX knowledge_chunks_search ON knowledge_chunks USING gin (search);
CREATE INDEX knowledge_chunks_project ON knowledge_chunks (project);
