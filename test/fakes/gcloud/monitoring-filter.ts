// The subset of the Monitoring filter language the supervisor uses: equality comparisons
// joined by AND, e.g. metric.type = "…" AND metric.labels.instance_name = "vm-1".
// Anything else is refused, so a filter the fake cannot honour never answers as if it could.
import { GoogleError } from './errors.js';

export interface Clause {
  /** metric.type, resource.type, metric.labels.<k> or resource.labels.<k>. */
  field: string;
  value: string;
}

const FIELD = /^(?:metric\.type|resource\.type|metric\.labels\.[a-z_][a-z0-9_]*|resource\.labels\.[a-z_][a-z0-9_]*)$/;

export function parseFilter(filter: string): Clause[] {
  const bad = (why: string) => new GoogleError(400, `Field filter had an invalid value of "${filter}": ${why}`, 'badRequest');
  const clauses: Clause[] = [];
  let rest = filter.trim();
  if (rest === '') throw bad('A filter must specify a metric type.');
  for (;;) {
    const m = /^([A-Za-z_][A-Za-z0-9_.]*)\s*=\s*"((?:[^"\\]|\\.)*)"\s*/.exec(rest);
    if (!m) throw bad(`could not parse the filter near '${rest.slice(0, 40)}'.`);
    const [whole, field = '', value = ''] = m;
    if (!FIELD.test(field)) throw bad(`the filter refers to an unknown field '${field}'.`);
    clauses.push({ field, value: value.replace(/\\(.)/g, '$1') });
    rest = rest.slice(whole.length);
    if (rest === '') break;
    const and = /^AND\s+/.exec(rest);
    if (!and) throw bad(`could not parse the filter near '${rest.slice(0, 40)}'.`);
    rest = rest.slice(and[0].length);
  }
  if (clauses.filter((c) => c.field === 'metric.type').length !== 1) throw bad('A filter must specify exactly one metric type.');
  return clauses;
}
