-- Cloudflare: the change log, the last known DNS records, manual tunnel routes and the
-- ingress rules this supervisor wrote (so a hand-written rule is told apart from one of
-- ours that is no longer wanted).

-- Every change sent to Cloudflare or to cloudflared's config, whatever its outcome.
CREATE TABLE cloudflare_changes (
  id bigserial PRIMARY KEY,
  at timestamptz NOT NULL,
  actor text NOT NULL,
  operation text NOT NULL,
  action text NOT NULL,
  target text NOT NULL,
  outcome text NOT NULL CHECK (outcome IN ('ok', 'error')),
  detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX cloudflare_changes_target ON cloudflare_changes (target, id);

-- DNS records as Cloudflare last reported them (import_cloudflare and every applied change).
CREATE TABLE dns_records (
  zone_id text NOT NULL,
  record_id text NOT NULL,
  zone_name text NOT NULL,
  name text NOT NULL,
  type text NOT NULL,
  content text NOT NULL,
  proxied boolean NOT NULL,
  ttl integer NOT NULL,
  comment text,
  owned boolean NOT NULL,
  seen_at timestamptz NOT NULL,
  PRIMARY KEY (zone_id, record_id)
);
CREATE INDEX dns_records_name ON dns_records (name);

-- Routes added by hand (add_tunnel_route) or adopted by import_cloudflare; routes for port
-- allocations come from port_allocations.hostname and are not copied here.
CREATE TABLE tunnel_routes (
  hostname text NOT NULL,
  path text NOT NULL DEFAULT '',
  service text NOT NULL,
  dns boolean NOT NULL DEFAULT true,
  source text NOT NULL CHECK (source IN ('manual', 'imported')),
  created_at timestamptz NOT NULL,
  created_by text NOT NULL,
  PRIMARY KEY (hostname, path)
);

-- The (hostname, path) rules of each tunnel that the last sync wrote.
CREATE TABLE tunnel_owned_rules (
  tunnel_id text NOT NULL,
  hostname text NOT NULL,
  path text NOT NULL DEFAULT '',
  PRIMARY KEY (tunnel_id, hostname, path)
);
