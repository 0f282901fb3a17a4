/**
 * A URL to show with its password masked (postgres://user:****@host/db). Text that is not a URL
 * is never shown: `unreadable` stands in for it, since it may be the secret itself.
 */
export function withoutPassword(text: string, unreadable = '(the URL given)'): string {
  try {
    const url = new URL(text);
    if (url.password) url.password = '****';
    return url.toString();
  } catch {
    return unreadable;
  }
}
