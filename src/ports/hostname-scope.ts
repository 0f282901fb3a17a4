/**
 * Which public hostnames a project token may give its ports. The next tunnel sync publishes
 * whatever an allocation names, so without a rule any project could claim `example.com` or
 * another project's `admin.example.com`. A project's own hostnames carry its name as a label
 * left of the domain (the last two labels): consilio.example.com, api.consilio.example.com.
 * What lies under another project's name is that project's, whatever labels come before it:
 * consilio.odin.example.com is odin's. The domain's own labels are nobody's: a project named
 * `example` gets neither example.com nor beta.example.com, and does not take
 * web.beta.example.com from beta. Anything else is an admin's call (allocate_port with an
 * admin token on the meta server, or the CLI).
 */

/** The labels of a registrable domain (example.com); a project's label must be left of them. */
const DOMAIN_LABELS = 2;

/**
 * The labels between the project's own and the domain in `hostname` (its name taken where it
 * is nearest the domain), or undefined when the hostname does not carry the name as a label
 * left of the domain. The hostname is the project's when none of them is another project's name.
 */
export function labelsAbove(hostname: string, project: string): string[] | undefined {
  const labels = hostname.split('.');
  const domainAt = labels.length - DOMAIN_LABELS;
  // (lastIndexOf counts a negative start from the end, so a hostname that is all domain stops here.)
  const at = domainAt > 0 ? labels.lastIndexOf(project, domainAt - 1) : -1;
  return at === -1 ? undefined : labels.slice(at + 1, domainAt);
}

export const projectHostnameRule = (project: string): string =>
  `a project token may name hostnames that carry its project's name as a label left of the domain (${project}.example.com, api.${project}.example.com), not under another project's name (${project}.other.example.com); an admin can allocate any other`;
