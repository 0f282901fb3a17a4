import { agentDomain } from './agent/index.js';
import { authDomain } from './auth/index.js';
import type { Domain } from './catalog/domain.js';
import { defineApp, type App, type AppOptions } from './catalog/wire.js';
import { cloudflareDomain } from './cloudflare/index.js';
import { settingsDomain } from './settings/index.js';
import type { Config } from './core/config.js';
import { gcloudDomain } from './gcloud/index.js';
import { instructionsDomain } from './instructions/index.js';
import { knowledgeDomain } from './knowledge/index.js';
import { portsDomain } from './ports/index.js';
import { projectsDomain } from './projects/index.js';
import { secretsDomain } from './secrets/index.js';
import { tasksDomain } from './tasks/index.js';

/**
 * Every domain, in the order they are created (a domain comes after the ones it
 * needs). The one place that names them all: wiring, the operation catalog,
 * settings, MCP toolsets and the docs come from this list.
 */
export const DOMAINS = [projectsDomain, authDomain, portsDomain, secretsDomain, cloudflareDomain, instructionsDomain, tasksDomain, knowledgeDomain, agentDomain, gcloudDomain, settingsDomain] as const satisfies readonly Domain[];

export type SupervisorApp = App<typeof DOMAINS>;

/** The supervisor: what the daemon, the CLI and stdio MCP run. */
export const supervisor = defineApp(DOMAINS);

/** Every operation of every domain. */
export const catalog = supervisor.catalog;

/** Core's settings and every domain's, from the environment, the config file and defaults. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  return supervisor.loadConfig(env);
}

/** Migrates the database and creates every domain (see openDomains). */
export function openApp(options: AppOptions): Promise<SupervisorApp> {
  return supervisor.open(options);
}
