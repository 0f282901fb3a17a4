-- Cloudflare writes a daemon has sent and not yet seen answered (a tunnel configuration PUT, a DNS change).
-- Cloudflare takes no precondition, and the database lock that serialises syncs cannot stop a
-- request already on the wire: a daemon that dies with one in flight could have it land after
-- the next holder's write and undo it. The next holder waits until the row is gone (the writer
-- saw its answer) or landed_by has passed (the writer died; its last request has timed out).
-- A live writer keeps moving landed_by, so a long write with retries is waited for whole.
CREATE TABLE cloudflare_writes_in_flight (
  lock_key  text PRIMARY KEY,
  writer    text NOT NULL,
  landed_by timestamptz NOT NULL
);
