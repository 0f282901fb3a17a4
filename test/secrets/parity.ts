// Parity cases of the secrets domain (secrets, grants, keys, the run environment): see test/parity/harness.ts.
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { decodedCursor, folder, put, setupActor, type ParityCases } from '../parity/harness.js';

export const secretsParity: ParityCases = (ctx) => ({
  get_secret: {
    async input(via) {
      const path = `${folder('get_secret', via)}/api_key`;
      await put(ctx, path, 'first');
      await put(ctx, path, 'second');
      return { path, version: 1 };
    },
  },
  set_secret: {
    input: (via) => ({
      path: `${folder('set_secret', via)}/new_key`,
      value: 'written through every interface',
      ifVersion: 0,
      description: 'made by the parity test',
      tags: ['parity', 'ci'],
      expiresAt: '2027-06-30T00:00:00.000Z',
      rotationIntervalDays: 90,
    }),
  },
  list_secrets: {
    async input(via) {
      const dir = folder('list_secrets', via);
      for (const key of ['a', 'b', 'sub/c']) await put(ctx, `${dir}/${key}`, `value-${key}`);
      return { prefix: `${dir}/`, recursive: false, limit: 1 };
    },
    // The cursor is the last path, base64url-encoded, and so holds the interface's folder: compare it decoded.
    normalise: decodedCursor('list_secrets'),
  },
  delete_secret: {
    async input(via) {
      const path = `${folder('delete_secret', via)}/doomed`;
      await put(ctx, path, 'x');
      return { path, ifVersion: 1 };
    },
  },
  restore_secret: {
    async input(via) {
      const path = `${folder('restore_secret', via)}/back`;
      await put(ctx, path, 'x');
      await ctx.daemon.services.secrets.delete(setupActor, { path });
      return { path };
    },
  },
  get_secret_history: {
    async input(via) {
      const path = `${folder('get_secret_history', via)}/versions`;
      for (const v of ['one', 'two', 'three']) await put(ctx, path, v);
      return { path, limit: 2 };
    },
    // nextCursor encodes a version number, equal for all three, issued for each one's own path.
    normalise: decodedCursor('get_secret_history'),
  },
  rollback_secret: {
    async input(via) {
      const path = `${folder('rollback_secret', via)}/rolled`;
      await put(ctx, path, 'good');
      await put(ctx, path, 'bad');
      return { path, toVersion: 1, ifVersion: 2 };
    },
  },
  list_due_secrets: {
    async setup() {
      // Three days after the test daemon's clock (a past expiry cannot be stored).
      await put(ctx, 'project/parity/secrets_due/expiring', 'x', { expiresAt: new Date('2026-11-26T10:00:00Z') });
      await put(ctx, 'project/parity/secrets_due/rotate_weekly', 'y', { rotationIntervalDays: 7 });
    },
    input: () => ({ withinDays: 14 }),
  },
  import_secrets: {
    async input(via) {
      const prefix = `${folder('import_secrets', via)}/`;
      await put(ctx, `${prefix}api_key`, 'same');
      await put(ctx, `${prefix}db_url`, 'old');
      return { prefix, content: 'API_KEY=same\nDB_URL="postgres://new"\nNEW_ONE=fresh # comment\n', overwrite: true };
    },
    // The CLI reads the .env text from a file named on the command line.
    async cliArgs(input, via) {
      const file = join(ctx.scratch, `import-${via}.env`);
      await writeFile(file, String(input.content));
      return ['secrets', 'import', file, '--input', JSON.stringify({ prefix: input.prefix, overwrite: input.overwrite })];
    },
  },
  export_secrets: {
    async input(via) {
      const dir = folder('export_secrets', via);
      await put(ctx, `${dir}/api_key`, 'k-123');
      await put(ctx, `${dir}/db/url`, 'postgres://u:p w@h/db');
      return { prefix: `${dir}/`, limit: 10 };
    },
  },
  grant_secret_access: {
    // No trailing slash: every interface answers with the normalised folder.
    input: (via) => ({ project: 'parity-grantee', prefix: `service/via-${via}`, access: 'write' }),
  },
  revoke_secret_access: {
    async input(via) {
      const grant = { project: 'parity-grantee', prefix: `service/revoke/via-${via}/` };
      await ctx.daemon.services.secrets.grant(setupActor.actor, { ...grant, access: 'read' });
      return grant;
    },
  },
  list_secret_grants: {
    async setup() {
      await ctx.daemon.services.secrets.grant(setupActor.actor, { project: 'parity-lister', prefix: 'service/penpot/', access: 'read' });
      await ctx.daemon.services.secrets.grant(setupActor.actor, { project: 'parity-lister', prefix: 'service/smtp/', access: 'write' });
    },
    input: () => ({ project: 'parity-lister' }),
  },
  rotate_data_key: {
    input: () => ({}),
    // Each call starts the next key: the ids advance by one per call. Compare the relation, check the chain.
    normalise(o) {
      assert.equal(typeof o.activeKeyId, 'number');
      assert.equal(o.activeKeyId, Number(o.retiredKeyId) + 1);
      return { activeKeyId: '<retiredKeyId + 1>', retiredKeyId: '<previous active key>' };
    },
    check([rest, mcp, cli]) {
      assert.equal(mcp!.retiredKeyId, rest!.activeKeyId, 'MCP retired the key REST started');
      assert.equal(cli!.retiredKeyId, mcp!.activeKeyId, 'the CLI retired the key MCP started');
    },
  },
  rotate_master_key: {
    input: () => ({}),
    // Each call generates a new master key, so its fingerprint differs; rewrapped (every data key) does not.
    normalise(o) {
      assert.match(String(o.masterKeyId), /^[0-9a-f]{16}$/);
      return { ...o, masterKeyId: '<fingerprint>' };
    },
    check(outputs) {
      assert.equal(new Set(outputs.map((o) => o.masterKeyId)).size, 3, 'three rotations, three master keys');
    },
  },
  list_keys: {
    input: () => ({}),
  },
  get_run_env: {
    async input(via) {
      const project = `env-via-${via}`;
      await ctx.daemon.services.projects.add('test', { name: project });
      await put(ctx, `project/${project}/database_url`, 'postgres://env');
      await put(ctx, `project/${project}/api_key`, 'k-env');
      return { project };
    },
  },
});
