import type { Allocation } from './model.js';

/** `api.v2` → `API_V2_PORT`: environment names are upper case letters, digits and _. */
export const portVariableName = (service: string): string => `${service.toUpperCase().replace(/[^A-Z0-9]+/g, '_')}_PORT`;

/**
 * The variables `supervisor run --project P --service S` adds: `<SERVICE>_PORT` for each
 * of the project's services on this host, and `PORT` for the one being started.
 */
export function portVariables(allocations: Allocation[], service?: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const a of allocations) env[portVariableName(a.service)] = String(a.port);
  const own = allocations.find((a) => a.service === service);
  if (own) env.PORT = String(own.port);
  return env;
}
