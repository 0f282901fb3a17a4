/** Query parameters a PostgreSQL URL may carry a password in (pg reads them as connection settings). */
const SECRET_PARAMS = ['password', 'sslpassword'];

/**
 * A URL to show with its password masked (postgres://user:****@host/db, or ?password=****).
 * Text that is not a URL is never shown: `unreadable` stands in for it, since it may be the secret itself.
 */
export function withoutPassword(text: string, unreadable = '(the URL given)'): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '****';
    // Only a URL that has one is re-encoded: the rest of its query is shown as given.
    for (const name of SECRET_PARAMS) if (url.searchParams.has(name)) url.searchParams.set(name, '****');
    return url.toString();
  } catch {
    return unreadable;
  }
}
