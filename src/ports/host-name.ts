import { isIPv4 } from 'node:net';

const LABEL = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/**
 * Why `name` cannot name the machine an allocation is on, or undefined when it can. A host other
 * than `local` is where the service runs: the tunnel routes to http://<host>:<port>, so it must be
 * a name a resolver takes (labels of letters and digits, inner hyphens, single dots) or an IPv4
 * address. A name ending in an all-digit label reads as an address, so it must be a valid one.
 */
export function hostProblem(name: string): string | undefined {
  const labels = name.split('.');
  if (!labels.every((l) => LABEL.test(l))) {
    return `${name} is not a machine name: each dot-separated part is letters and digits, with hyphens only inside (e.g. vm-1 or vm-1.internal)`;
  }
  if (/^\d+$/.test(labels.at(-1)!) && !isIPv4(name)) return `${name} is neither a machine name nor an IPv4 address (a name's last part has a letter)`;
  return undefined;
}
