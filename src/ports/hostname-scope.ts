/**
 * Which public hostnames a project token may give its ports. The next tunnel sync publishes
 * whatever an allocation names, so without a rule any project could claim `example.com` or
 * another project's `admin.example.com`. A project's own hostnames carry its name as a label
 * other than the last: consilio.example.com, api.consilio.example.com. What lies under another
 * project's name is that project's, whatever labels come before it: consilio.odin.example.com
 * is odin's. Anything else is an admin's call (allocate_port with an admin token on the meta
 * server, or the CLI).
 */

/**
 * The labels after the project's own in `hostname` (its name taken where it is nearest the
 * domain), or undefined when the hostname does not carry the name as a label other than the
 * last. The hostname is the project's when none of them is another project's name.
 */
export function labelsAbove(hostname: string, project: string): string[] | undefined {
  const labels = hostname.split('.');
  const at = labels.lastIndexOf(project);
  return at === -1 || at === labels.length - 1 ? undefined : labels.slice(at + 1);
}

export const projectHostnameRule = (project: string): string =>
  `a project token may name hostnames that carry its project's name as a label (${project}.example.com, api.${project}.example.com), not under another project's name (${project}.other.example.com); an admin can allocate any other`;
