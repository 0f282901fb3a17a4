import { readFile } from 'node:fs/promises';
import type { AppDefinition } from '../catalog/wire.js';
import type { CommandManifest } from './commands.js';

/** Where the command line gets its commands from, and the app it opens when there is no daemon. */
export interface CliSource {
  manifest(): Promise<CommandManifest>;
  app(): Promise<AppDefinition>;
}

/** A source for an app already loaded (tests, apps with more domains): the manifest is built from its catalog. */
export function appSource(app: AppDefinition): CliSource {
  return {
    manifest: async () => (await import('./commands.js')).describeCommands(app.catalog),
    app: async () => app,
  };
}

const MANIFEST = new URL('./commands.json', import.meta.url);

/**
 * The supervisor's commands: dist/cli/commands.json, written by the build, so
 * help and calls through the daemon load no catalog; built from the catalog
 * when the file is not there (a tsc-only build).
 */
export const supervisorSource: CliSource = {
  async manifest() {
    try {
      return JSON.parse(await readFile(MANIFEST, 'utf8')) as CommandManifest;
    } catch {
      const [{ supervisor }, { describeCommands }] = await Promise.all([import('../app.js'), import('./commands.js')]);
      return describeCommands(supervisor.catalog);
    }
  },
  app: async () => (await import('../app.js')).supervisor,
};
