// One process of the cross-process config write test: waits for the shared start time, then sets one setting.
import { DOMAINS, loadConfig } from '../../src/app.js';
import { SettingsStore } from '../../src/core/settings-store.js';

const [home, name, value, goAt] = process.argv.slice(2) as [string, string, string, string];
const store = new SettingsStore(loadConfig({ SUPERVISOR_HOME: home }), DOMAINS);
while (Date.now() < Number(goAt));
await store.set(name, value);
