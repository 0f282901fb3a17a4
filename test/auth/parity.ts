// Parity cases of the auth domain (tokens, identity, audit): see test/parity/harness.ts.
import assert from 'node:assert/strict';
import { put, setupActor, type ParityCases } from '../parity/harness.js';

export const authParity: ParityCases = (ctx) => ({
  create_token: {
    input: () => ({ name: 'parity-made', project: 'parity' }),
    // A new token each call: random id and secret. Check the format, compare the rest.
    normalise(o) {
      assert.match(String(o.id), /^[a-f0-9]{12}$/);
      assert.ok(String(o.token).startsWith(`svt_${String(o.id)}_`), 'the token embeds its id');
      return { ...o, id: '<id>', token: '<token>' };
    },
  },
  list_tokens: {
    input: () => ({ includeRevoked: true, limit: 200 }),
  },
  revoke_token: {
    async input() {
      const { id } = await ctx.daemon.services.auth.tokens.create({ name: 'parity-revoked', project: 'parity' });
      return { id };
    },
    // Each interface revokes its own token, so the id differs.
    normalise(o) {
      assert.match(String(o.id), /^[a-f0-9]{12}$/);
      return { ...o, id: '<id>' };
    },
  },
  get_identity: {
    input: () => ({}),
  },
  list_audit: {
    async setup() {
      await put(ctx, 'project/parity/list_audit/target', 'audited');
      await ctx.daemon.services.secrets.get(setupActor, { path: 'project/parity/list_audit/target' });
    },
    input: () => ({ target: 'project/parity/list_audit/target' }),
  },
});
