import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/app.js';
import { SupervisorError } from '../../src/core/errors.js';

const home = mkdtempSync(join(tmpdir(), 'supervisor-config-'));

test('defaults, then the config file, then environment variables', () => {
  writeFileSync(join(home, 'config.yaml'), 'port: 4100\nlogLevel: debug\n');
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '4200' });
  assert.equal(config.port, 4200);
  assert.equal(config.logLevel, 'debug');
  assert.equal(config.host, '127.0.0.1');
  assert.equal(config.databaseUrl, undefined);
});

test('a bad value is a clear error naming the setting and its variable', () => {
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT: '70000' }), (err) => err instanceof SupervisorError && /setting port \(SUPERVISOR_PORT\) is invalid/.test(err.message));
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_LOG_LEVEL: 'loud' }), /logLevel \(SUPERVISOR_LOG_LEVEL\)/);
});

test('a broken config file is named: YAML that does not parse, and a bad value in it (not blamed on the variable)', () => {
  const file = join(home, 'broken.yaml');
  writeFileSync(file, 'portBlockSize: [oops\n');
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }), (err) => err instanceof SupervisorError && err.code === 'invalid_input' && err.message.startsWith(`config file ${file} is not valid YAML (`) && !err.message.includes('\n'));
  writeFileSync(file, 'port: abc\n');
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }), (err) => err instanceof SupervisorError && err.message.startsWith(`setting port (port in ${file}) is invalid`));
  // Set in both, the variable's value is the one used, and the one named.
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file, SUPERVISOR_PORT: 'xyz' }), /setting port \(SUPERVISOR_PORT\) is invalid/);
});

test('an unknown key in the config file is refused, listing the known ones', () => {
  const file = join(home, 'other.yaml');
  writeFileSync(file, 'prot: 1\n');
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }), /unknown settings: prot; known: home/);
});

test('home in a config file is refused: the data dir is chosen before the file is read, so it would be shown as used and never be', () => {
  const file = join(home, 'with-home.yaml');
  writeFileSync(file, `home: ${join(home, 'elsewhere')}\n`);
  assert.throws(
    () => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }),
    (err) => err instanceof SupervisorError && err.code === 'invalid_input' && err.message === `config file ${file} sets home: home (SUPERVISOR_HOME) is where the config file lives, so it cannot be set in it; set the variable instead`,
  );
});

test('masterKey in a config file is refused as set_setting refuses it, without echoing the key', () => {
  const file = join(home, 'with-key.yaml');
  writeFileSync(file, `masterKey: ${'ab'.repeat(32)}\n`);
  assert.throws(
    () => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }),
    (err) => err instanceof SupervisorError && err.code === 'invalid_input' && /^config file .* sets masterKey: masterKey is the key that opens every secret, so it is not a config-file setting/.test(err.message) && !err.message.includes('abab'),
  );
});

test("a value of the wrong kind is named in the value's terms, with the accepted words where there are some", () => {
  const refused = (env: Record<string, string>, reason: string) => assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, ...env }), (err) => err instanceof Error && err.message.endsWith(` is invalid: ${reason}`));
  refused({ SUPERVISOR_PORT: 'abc' }, '"abc" is not a number');
  refused({ SUPERVISOR_SECRET_CACHE_BYTES: '1.5' }, '"1.5" is not a whole number');
  refused({ SUPERVISOR_PIV_RESUME_ON_START: 'maybe' }, '"maybe" is not one of true, false');
  refused({ SUPERVISOR_LOG_LEVEL: 'loud' }, '"loud" is not one of fatal, error, warn, info, debug, trace, silent');
});

test('port policy settings: block start and size, and a comma-separated deny list', () => {
  const config = loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT_BLOCK_START: '4000', SUPERVISOR_PORT_BLOCK_SIZE: '50', SUPERVISOR_PORT_DENY_LIST: '5432, 6379' });
  assert.deepEqual(config.domains.ports, { portBlockStart: 4000, portBlockSize: 50, portDenyList: [5432, 6379] });
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT_DENY_LIST: '5432,99999' }), /portDenyList \(SUPERVISOR_PORT_DENY_LIST\) is invalid: "99999" is not a port \(1-65535\)/);
  // The message names the item that is not a port, not "expected number, received NaN".
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT_DENY_LIST: '22,abc' }), /is invalid: "abc" is not a port \(1-65535\)$/);
  assert.throws(() => loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_PORT_DENY_LIST: '22,3.5' }), /"3\.5" is not a port/);
  // A YAML list in the config file is read as well.
  const file = join(home, 'deny.yaml');
  writeFileSync(file, 'portDenyList: [22, 5432]\n');
  assert.deepEqual(loadConfig({ SUPERVISOR_HOME: home, SUPERVISOR_CONFIG: file }).domains.ports?.portDenyList, [22, 5432]);
});
