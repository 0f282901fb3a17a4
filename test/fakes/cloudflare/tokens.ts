// Token endpoints. A user's token: GET /user/tokens/verify and /user/tokens/{id}. An account
// API token: GET /accounts/{account_id}/tokens/verify and /accounts/{account_id}/tokens/{id};
// the user's verify endpoint answers it 401 like an invalid token (as Cloudflare does), and
// an account's endpoint answers so any token that is not that account's.
import { tokenDetails, type Token, type TokenStore } from './auth.js';
import { fail, ok, routeError } from './envelope.js';
import type { Route } from './router.js';

// Recorded answer: {id, status} plus a 10000 message with "type": null.
const verified = (token: Token) => ok({ id: token.id, status: token.status }, undefined, [{ code: 10000, message: 'This API Token is valid and active', type: null }]);

const notThisOwners = () => fail(401, 1000, 'Invalid API Token');

export function tokenRoutes(tokens: TokenStore): Route[] {
  const details = (id: string, account: string | undefined, fullPath: string) => {
    const token = tokens.byId(id);
    if (!token || token.account !== account) throw routeError(fullPath);
    return ok(tokenDetails(token, tokens.userId));
  };
  return [
    {
      method: 'GET',
      pattern: '/user/tokens/verify',
      access: 'verify',
      handle: ({ token }) => {
        if (token.account !== undefined) throw notThisOwners();
        return verified(token);
      },
    },
    { method: 'GET', pattern: '/user/tokens/:id', access: 'tokens', handle: ({ params, fullPath }) => details(params.id ?? '', undefined, fullPath) },
    {
      method: 'GET',
      pattern: '/accounts/:account_id/tokens/verify',
      access: 'verify',
      handle: ({ token, params }) => {
        if (token.account !== params.account_id) throw notThisOwners();
        return verified(token);
      },
    },
    {
      method: 'GET',
      pattern: '/accounts/:account_id/tokens/:id',
      access: 'tokens',
      handle: ({ params, fullPath }) => details(params.id ?? '', params.account_id, fullPath),
    },
  ];
}
