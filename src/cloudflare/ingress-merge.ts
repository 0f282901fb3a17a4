// Our routes merged into a tunnel's existing ingress. Pure, so dry runs and applies agree.
//
// Rules in the existing ingress fall in three kinds: ours from an earlier sync (their
// hostname+path is in `owned`), which are replaced by what is wanted now or dropped; foreign
// (written by hand or by another tool), which are always kept; and the catch-all, kept when
// present so a hand-chosen fallback survives, else http_status:404. A route manages its rule's
// hostname, path and service only: settings found on the rule (originRequest, written by hand
// or adopted by an import) stay, or a sync would turn off the noTLSVerify a service needs.
import type { IngressRule } from './client.js';
import { CATCH_ALL, isCatchAll, sortIngress } from './ingress-rules.js';

export interface Route {
  hostname: string;
  /** '' = every path. */
  path: string;
  service: string;
  source: 'allocation' | 'manual' | 'imported';
  /** The owning project for allocation routes. */
  project: string | null;
  /** Whether the hostname gets its CNAME to the tunnel. */
  dns: boolean;
}

export interface RouteChange {
  hostname: string;
  path: string;
  before: string;
  after: string;
}

export interface RoutePlan {
  add: Array<{ hostname: string; path: string; service: string }>;
  remove: Array<{ hostname: string; path: string; service: string }>;
  change: RouteChange[];
  /** Wanted routes that a foreign rule already serves differently (left as they are unless forced), or that a stored route holds against an allocation (tunnel.ts). */
  conflicts: Array<{ hostname: string; path: string; wanted: string; existing: string }>;
  /** Foreign rules kept as they were. */
  kept: number;
}

export interface Merged {
  ingress: IngressRule[];
  plan: RoutePlan;
  /** The rules that are ours after this merge (what tunnel_owned_rules should hold). */
  owned: Array<{ hostname: string; path: string; service: string }>;
}

export const routeKey = (hostname: string | undefined, path: string | undefined) => `${hostname ?? ''}\u0000${path ?? ''}`;

export function ruleOf(route: Pick<Route, 'hostname' | 'path' | 'service'>): IngressRule {
  return route.path ? { hostname: route.hostname, path: route.path, service: route.service } : { hostname: route.hostname, service: route.service };
}

export function mergeIngress(existing: IngressRule[], wanted: Route[], owned: ReadonlySet<string>, force: boolean): Merged {
  const plan: RoutePlan = { add: [], remove: [], change: [], conflicts: [], kept: 0 };
  const want = new Map(wanted.map((r) => [routeKey(r.hostname, r.path), r]));
  const last = existing.at(-1);
  const catchAll = last && isCatchAll(last) ? last : CATCH_ALL;
  const body = last && isCatchAll(last) ? existing.slice(0, -1) : existing;

  const foreign: IngressRule[] = [];
  const present = new Map<string, IngressRule>();
  for (const rule of body) {
    const key = routeKey(rule.hostname, rule.path);
    present.set(key, rule);
    const route = want.get(key);
    const ours = owned.has(key);
    if (!route) {
      if (ours) plan.remove.push({ hostname: rule.hostname ?? '', path: rule.path ?? '', service: rule.service });
      else {
        foreign.push(rule);
        plan.kept++;
      }
      continue;
    }
    // A hand-written rule that already routes exactly where we would is adopted, not a conflict.
    if (ours || force || rule.service === route.service) continue;
    foreign.push(rule);
    plan.kept++;
    plan.conflicts.push({ hostname: route.hostname, path: route.path, wanted: route.service, existing: rule.service });
    want.delete(key);
  }

  const ours: IngressRule[] = [];
  for (const [key, route] of want) {
    const before = present.get(key);
    if (!before) plan.add.push({ hostname: route.hostname, path: route.path, service: route.service });
    else if (before.service !== route.service) plan.change.push({ hostname: route.hostname, path: route.path, before: before.service, after: route.service });
    ours.push(before?.originRequest === undefined ? ruleOf(route) : { ...ruleOf(route), originRequest: before.originRequest });
  }

  const ingress = sortIngress([...foreign, ...ours, catchAll]);
  return { ingress, plan, owned: [...want.values()].map((r) => ({ hostname: r.hostname, path: r.path, service: r.service })) };
}
