-- Each managed block's body as last written, per project and file. The block's begin marker
-- holds only a hash of it; with the body on record, adopting a hand edit compares the edit with
-- the text it was made to, not with what the layers say now (which would take layer text
-- removed since for the person's own).
CREATE TABLE instruction_blocks (
  project     text NOT NULL REFERENCES projects (name) ON DELETE CASCADE,
  file        text NOT NULL,
  hash        text NOT NULL,
  body        text NOT NULL,
  written_at  timestamptz NOT NULL,
  PRIMARY KEY (project, file)
);
