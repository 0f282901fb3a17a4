-- A document the product writes for one thing (a PIV loop's learning) carries that thing's key,
-- so writing it again replaces it instead of adding a twin (a loop whose end is recorded twice:
-- a daemon killed between its bookkeeping and its final state, then resumed).
ALTER TABLE knowledge_docs ADD COLUMN key text;
CREATE UNIQUE INDEX knowledge_docs_key ON knowledge_docs (key) WHERE key IS NOT NULL;
