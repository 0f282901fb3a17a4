-- The service each rule a sync wrote routes to: until the next sync takes a released
-- allocation's rule out, its port still receives the hostname's traffic, and the ports domain
-- must not hand it to another service (port claims). Rules written before this have none.
ALTER TABLE tunnel_owned_rules ADD COLUMN service text;
