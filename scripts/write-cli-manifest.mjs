// Writes dist/cli/commands.json: every command as the CLI needs it (help, flags,
// output fields), so `supervisor --help` and calls through the daemon load no catalog.
import { writeFileSync } from 'node:fs';

const { supervisor } = await import('../dist/app.js');
const { describeCommands } = await import('../dist/cli/commands.js');
writeFileSync(new URL('../dist/cli/commands.json', import.meta.url), `${JSON.stringify(describeCommands(supervisor.catalog))}\n`);
