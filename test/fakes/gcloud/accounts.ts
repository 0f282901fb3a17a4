// Service accounts the fake OAuth server knows: their keys (public halves, by key id), which
// keys are revoked, and which projects each account may use.
import { createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import type { ServiceAccountKeyJson } from './types.js';

export interface FakeKey {
  id: string;
  publicKey: KeyObject;
  revoked: boolean;
}

export interface FakeAccount {
  email: string;
  projectId: string;
  clientId: string;
  keys: FakeKey[];
  /** Projects whose Compute Engine and Monitoring APIs this account may call. */
  projects: Set<string>;
}

export interface AddAccountOptions {
  projectId: string;
  /** Default: <name>@<projectId>.iam.gserviceaccount.com with a generated name. */
  email?: string;
  /** Default: [projectId]. */
  projects?: string[];
  /** Bring your own key pair (PEM); default: a fresh 2048-bit RSA pair. */
  keyPair?: { privateKeyPem: string; publicKeyPem: string };
}

export class AccountStore {
  private readonly byEmail = new Map<string, FakeAccount>();
  /** `<service>:<project>` of APIs a project has not enabled. */
  readonly disabledApis = new Set<string>();

  constructor(private readonly tokenUri: () => string) {}

  add(options: AddAccountOptions): { account: FakeAccount; key: ServiceAccountKeyJson } {
    const email = options.email ?? `sa-${randomBytes(3).toString('hex')}@${options.projectId}.iam.gserviceaccount.com`;
    if (this.byEmail.has(email)) throw new Error(`fake google: service account ${email} already exists`);
    const account: FakeAccount = {
      email,
      projectId: options.projectId,
      clientId: String(BigInt(`0x${randomBytes(8).toString('hex')}`)).padStart(21, '1').slice(0, 21),
      keys: [],
      projects: new Set(options.projects ?? [options.projectId]),
    };
    this.byEmail.set(email, account);
    return { account, key: this.addKey(email, options.keyPair) };
  }

  /** A further key for an existing account, as "Add key" in the console does. */
  addKey(email: string, keyPair?: { privateKeyPem: string; publicKeyPem: string }): ServiceAccountKeyJson {
    const account = this.require(email);
    const pair = keyPair ?? generatePair();
    const id = randomBytes(20).toString('hex');
    account.keys.push({ id, publicKey: createPublicKey(pair.publicKeyPem), revoked: false });
    return keyJson(account, id, pair.privateKeyPem, this.tokenUri());
  }

  /** Revokes one key by id, or every key of an account by email. */
  revoke(emailOrKeyId: string): void {
    const account = this.byEmail.get(emailOrKeyId);
    if (account) {
      for (const key of account.keys) key.revoked = true;
      return;
    }
    const key = [...this.byEmail.values()].flatMap((a) => a.keys).find((k) => k.id === emailOrKeyId);
    if (!key) throw new Error(`fake google: no account or key ${emailOrKeyId}`);
    key.revoked = true;
  }

  find(email: string): FakeAccount | undefined {
    return this.byEmail.get(email);
  }

  require(email: string): FakeAccount {
    const account = this.byEmail.get(email);
    if (!account) throw new Error(`fake google: no service account ${email}`);
    return account;
  }

  /** Projects any account may use: the fake's notion of "projects that exist". */
  knownProjects(): Set<string> {
    return new Set([...this.byEmail.values()].flatMap((a) => [...a.projects]));
  }
}

function generatePair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

function keyJson(account: FakeAccount, keyId: string, privateKeyPem: string, tokenUri: string): ServiceAccountKeyJson {
  const certUrl = `https://www.googleapis.com/robot/v1/metadata/x509/${encodeURIComponent(account.email)}`;
  return {
    type: 'service_account',
    project_id: account.projectId,
    private_key_id: keyId,
    private_key: privateKeyPem,
    client_email: account.email,
    client_id: account.clientId,
    auth_uri: 'https://accounts.google.com/o/oauth2/auth',
    token_uri: tokenUri,
    auth_provider_x509_cert_url: 'https://www.googleapis.com/oauth2/v1/certs',
    client_x509_cert_url: certUrl,
    universe_domain: 'googleapis.com',
  };
}
