-- Accents are folded out of the index and the query alike (Unicode NFD, then combining marks
-- stripped), so "cafe" finds "café" and "café" finds "cafe". One SQL function does it for both
-- sides: a fold done in JavaScript for the query could drift from the index's. Redefining the
-- generated column recomputes it for every stored chunk, so notes written before are folded too.
-- The marks stripped are the combining diacritics blocks: in other scripts (Devanagari vowel
-- signs, Hebrew points) a combining mark can be a letter's meaning, not its accent.
CREATE FUNCTION knowledge_fold(text) RETURNS text
  LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
  RETURN regexp_replace(normalize($1, NFD), '[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]', '', 'g');

DROP INDEX knowledge_chunks_search;
ALTER TABLE knowledge_chunks DROP COLUMN search;
ALTER TABLE knowledge_chunks ADD COLUMN search tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english', knowledge_fold(title)), 'A') || setweight(to_tsvector('english', translate(knowledge_fold(title), './', '  ')), 'A') ||
  setweight(to_tsvector('english', knowledge_fold(text)), 'B') || setweight(to_tsvector('english', translate(knowledge_fold(text), './', '  ')), 'B')
) STORED;
CREATE INDEX knowledge_chunks_search ON knowledge_chunks USING gin (search);
