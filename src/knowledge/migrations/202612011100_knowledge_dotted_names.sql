-- Code notes are full of dotted names and paths (express.raw, req.body.amount,
-- src/routes/checkout.ts), which the parser keeps as single words: a search for "express" or
-- "checkout" missed them. The vector now also holds their parts (dots and slashes read as
-- spaces), beside the whole names, so both find the chunk.
DROP INDEX knowledge_chunks_search;
ALTER TABLE knowledge_chunks DROP COLUMN search;
ALTER TABLE knowledge_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', translate(title, './', '  ')), 'A') ||
  setweight(to_tsvector('english', text), 'B') || setweight(to_tsvector('english', translate(text, './', '  ')), 'B')
) STORED;
CREATE INDEX knowledge_chunks_search ON knowledge_chunks USING gin (search);
