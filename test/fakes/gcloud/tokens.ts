// Access tokens the fake OAuth server issued: lookup by bearer value, expiry, scopes.
import { randomBytes } from 'node:crypto';

export interface IssuedToken {
  value: string;
  account: string;
  scopes: Set<string>;
  expiresAt: number;
}

export const CLOUD_PLATFORM = 'https://www.googleapis.com/auth/cloud-platform';

export class TokenStore {
  private readonly byValue = new Map<string, IssuedToken>();

  constructor(private readonly now: () => number) {}

  issue(account: string, scopes: string[], lifetimeSeconds: number): IssuedToken {
    // Real access tokens start with "ya29." and run to a couple of hundred URL-safe characters.
    const token: IssuedToken = {
      value: `ya29.${randomBytes(96).toString('base64url')}`,
      account,
      scopes: new Set(scopes),
      expiresAt: this.now() + lifetimeSeconds * 1000,
    };
    this.byValue.set(token.value, token);
    return token;
  }

  /** The token behind an Authorization header, if it is one we issued and it has not expired. */
  fromHeader(header: string | undefined): IssuedToken | undefined {
    const match = /^Bearer\s+(\S+)$/i.exec(header ?? '');
    const token = match?.[1] ? this.byValue.get(match[1]) : undefined;
    return token && token.expiresAt > this.now() ? token : undefined;
  }

  values(): string[] {
    return [...this.byValue.keys()];
  }

  expireAll(): void {
    const now = this.now();
    for (const token of this.byValue.values()) token.expiresAt = Math.min(token.expiresAt, now);
  }

  /** Does the token carry one of these scopes (cloud-platform always counts)? */
  static allows(token: IssuedToken, scopes: readonly string[]): boolean {
    return token.scopes.has(CLOUD_PLATFORM) || scopes.some((s) => token.scopes.has(s));
  }
}
