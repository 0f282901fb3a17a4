// User token endpoints: GET /user/tokens/verify and GET /user/tokens/{id}.
import { tokenDetails, type TokenStore } from './auth.js';
import { ok, routeError } from './envelope.js';
import type { Route } from './router.js';

export function tokenRoutes(tokens: TokenStore): Route[] {
  return [
    {
      method: 'GET',
      pattern: '/user/tokens/verify',
      access: 'verify',
      // Recorded answer: {id, status} plus a 10000 message with "type": null.
      handle: ({ token }) =>
        ok({ id: token.id, status: token.status }, undefined, [
          { code: 10000, message: 'This API Token is valid and active', type: null },
        ]),
    },
    {
      method: 'GET',
      pattern: '/user/tokens/:id',
      access: 'tokens',
      handle: ({ params, fullPath }) => {
        const token = tokens.byId(params.id ?? '');
        if (!token) throw routeError(fullPath);
        return ok(tokenDetails(token, tokens.userId));
      },
    },
  ];
}
