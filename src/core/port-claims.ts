/**
 * A port of this host that something other than a port allocation sends traffic to: a
 * tunnel route to `http://localhost:3107`, or the rule a sync wrote for an allocation since
 * released. Handing such a port to a new service would publish that service under someone
 * else's hostname, so allocation skips it. Domains that route traffic say what they claim.
 */
export interface PortClaim {
  port: number;
  /** The hostname traffic arrives for: an allocation asking for this hostname takes its port back. */
  hostname: string;
  /** Who claims it, as a person reads it ("tunnel route docs.example.com → http://localhost:3107"). */
  by: string;
}

export interface PortClaims {
  claimed(): Promise<PortClaim[]>;
}

/** PortClaims of every domain that declares some, in domain order. */
export type PortClaimSources = () => ReadonlyArray<{ domain: string; claims: PortClaims }>;

/** Every domain's claims at once. */
export async function allClaims(sources: PortClaimSources): Promise<PortClaim[]> {
  return (await Promise.all(sources().map((s) => s.claims.claimed()))).flat();
}
