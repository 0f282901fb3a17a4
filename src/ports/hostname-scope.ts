/**
 * Which public hostnames a project token may give its ports. The next tunnel sync publishes
 * whatever an allocation names, so without a rule any project could claim `example.com` or
 * another project's `admin.example.com`. A project's own hostnames carry its name as a label
 * other than the last: consilio.example.com, api.consilio.example.com. Anything else is an
 * admin's call (allocate_port with an admin token on the meta server, or the CLI).
 */
export function isProjectHostname(hostname: string, project: string): boolean {
  return hostname.split('.').slice(0, -1).includes(project);
}

export const projectHostnameRule = (project: string): string =>
  `a project token may name hostnames that carry its project's name as a label (${project}.example.com, api.${project}.example.com); an admin can allocate any other`;
