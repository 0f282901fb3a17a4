// Google Cloud accounts: each a service-account key stored as the secret meta/gcloud/<name>,
// with a row saying what may be shown about it. API clients are built per account from the
// key and kept while the secret stays the same, so the OAuth token cache survives between
// calls and a key stored again (rotated) is picked up by the next call (within KEY_RECHECK_MS
// while other daemons' writes cannot be heard).
import type { AuditLog } from '../core/audit.js';
import type { Clock } from '../core/clock.js';
import type { Db } from '../core/db.js';
import { conflict, invalidInput, notFound, SupervisorError } from '../core/errors.js';
import type { Logger } from '../core/log.js';
import { adminPrincipal, type Principal } from '../core/principal.js';
import { readStamp, stillCurrent, type ReadStamp, type SecretsService } from '../secrets/index.js';
import { ServiceAccountTokenSource } from './auth.js';
import { ZONE_SHAPE } from './catalog.js';
import { ComputeClient } from './compute.js';
import { parseServiceAccountKey, type ServiceAccountKey } from './key.js';
import { MonitoringClient } from './monitoring.js';
import type { GcloudSettings } from './settings.js';
import { clipped } from '../core/clip.js';

export const secretPathOf = (account: string) => `meta/gcloud/${account}`;
const KEY_RECHECK_MS = 30_000;
const SYSTEM = adminPrincipal('system:gcloud');
/** The lock under which an account name is added or removed. */
const accountLock = (account: string) => `gcloud-account:${account}`;

export interface AccountRow {
  name: string;
  project_id: string;
  client_email: string;
  key_id: string;
  created_at: Date;
  updated_at: Date;
  last_success_at: Date | null;
  last_failure_at: Date | null;
  last_failure: string | null;
}

export interface Account {
  name: string;
  projectId: string;
  clientEmail: string;
}

export interface AccountClients {
  account: Account;
  compute: ComputeClient;
  monitoring: MonitoringClient;
}

interface Cached {
  version: number;
  stamp: ReadStamp;
  clients: AccountClients;
}

export interface AccountsDeps {
  db: Db;
  clock: Clock;
  audit: AuditLog;
  log: Logger;
  secrets: Pick<SecretsService, 'get' | 'set' | 'delete' | 'changeMark'>;
  settings: GcloudSettings;
  sleep: (ms: number) => Promise<void>;
}

export const accountView = (r: AccountRow) => ({
  account: r.name,
  projectId: r.project_id,
  clientEmail: r.client_email,
  keyId: r.key_id,
  secretPath: secretPathOf(r.name),
  createdAt: r.created_at,
  lastSuccessAt: r.last_success_at,
  lastFailureAt: r.last_failure_at,
  lastFailure: r.last_failure,
});

export class GcloudAccounts {
  private readonly cache = new Map<string, Cached>();

  constructor(private readonly deps: AccountsDeps) {}

  /**
   * Validates the key (every field, a token grant at its token_uri, then a call to its project)
   * and only then stores it: a refused key leaves nothing behind.
   */
  async add(principal: Principal, input: { account: string; key: string }): Promise<{ row: AccountRow; created: boolean }> {
    const key = parseServiceAccountKey(input.key, 'key');
    // One add or remove of a name at a time, across daemons: two keys for different Google
    // projects added under one new name at once would both pass the check below.
    return this.deps.db.exclusive(accountLock(input.account), async () => {
      // A new key for an account is for the same Google project: another would silently move the
      // account, and the VMs, policies and attachments of the old project would lose their key.
      const { rows: existing } = await this.deps.db.query<{ project_id: string }>('SELECT project_id FROM gcloud_accounts WHERE name = $1', [input.account]);
      if (existing[0] && existing[0].project_id !== key.project_id) {
        throw conflict(`account ${input.account} is for Google project ${existing[0].project_id}, and this key is for ${key.project_id}; add it under another account name, or remove ${input.account} first (gcloud_remove_account)`, {
          field: 'key',
          project: existing[0].project_id,
        });
      }
      await this.refuseCrossedNames(input.account, key.project_id);
      const tokens = this.tokensFor(key, input.account);
      await tokens.token();
      const account = { name: input.account, projectId: key.project_id, clientEmail: key.client_email };
      const clients = this.build(account, tokens);
      await assertReachable(clients);
      const now = this.deps.clock.now();
      const stored = await this.deps.secrets.set(principal, { path: secretPathOf(input.account), value: JSON.stringify(key), description: `Google Cloud service-account key of ${key.client_email}` });
      // The clients start with the token just granted: the first VM call needs no second grant.
      this.cache.set(input.account, { version: stored.version, stamp: readStamp(this.deps.secrets, secretPathOf(input.account), now.getTime()), clients });
      const { rows } = await this.deps.db.query<AccountRow & { inserted: boolean }>(
        `INSERT INTO gcloud_accounts (name, project_id, client_email, key_id, created_at, updated_at, last_success_at)
         VALUES ($1, $2, $3, $4, $5, $5, $6)
         ON CONFLICT (name) DO UPDATE SET project_id = $2, client_email = $3, key_id = $4, updated_at = $5,
           last_success_at = COALESCE($6, gcloud_accounts.last_success_at), last_failure_at = NULL, last_failure = NULL
         RETURNING *, (xmax = 0) AS inserted`,
        [input.account, key.project_id, key.client_email, key.private_key_id, now, now],
      );
      const { inserted, ...row } = rows[0]!;
      await this.deps.audit.record({ actor: principal.actor, action: 'gcloud.add_account', target: input.account, outcome: 'ok', detail: { projectId: key.project_id, clientEmail: key.client_email, keyId: key.private_key_id } });
      return { row, created: inserted };
    });
  }

  /**
   * A call names an account or a Google project id, the name winning (resolve): a new name that
   * is another project's id, or a key whose project id is the name of an account for another
   * project, would turn calls by that project id (vm delete included) to the wrong project.
   */
  private async refuseCrossedNames(account: string, projectId: string): Promise<void> {
    const { rows } = await this.deps.db.query<{ name: string; project_id: string }>(
      'SELECT name, project_id FROM gcloud_accounts WHERE (project_id = $1 OR name = $2) AND project_id <> $2 AND name <> $1 ORDER BY name LIMIT 1',
      [account, projectId],
    );
    const other = rows[0];
    if (!other) return;
    const clash = other.project_id === account ? `${account} is the Google project of account ${other.name}` : `this key's project ${projectId} is the name of account ${other.name} (for ${other.project_id})`;
    throw conflict(`${clash}: calls naming ${other.project_id === account ? account : projectId} would reach the wrong project; add it under another account name`, { field: 'account' });
  }

  async list(): Promise<AccountRow[]> {
    const { rows } = await this.deps.db.query<AccountRow>('SELECT * FROM gcloud_accounts ORDER BY name');
    return rows;
  }

  /** `confirmed` throws unless the caller confirmed: asked after the account is found, so a typo is named first. */
  async remove(principal: Principal, account: string, confirmed: () => void): Promise<AccountRow> {
    const missing = () => notFound(`no Google Cloud account ${account}; gcloud_list_accounts shows them`);
    return this.deps.db.exclusive(accountLock(account), async () => {
      const { rows: found } = await this.deps.db.query('SELECT 1 FROM gcloud_accounts WHERE name = $1', [account]);
      if (!found[0]) throw missing();
      confirmed();
      // The key goes first: should deleting it fail, the account is still listed and removing it
      // again finishes the job, where the other order would leave a credential with no account to
      // remove it by.
      await this.deps.secrets.delete(principal, { path: secretPathOf(account) }).catch((err: unknown) => {
        if (!(err instanceof SupervisorError && err.code === 'not_found')) throw err;
      });
      this.cache.delete(account);
      const { rows } = await this.deps.db.query<AccountRow>('DELETE FROM gcloud_accounts WHERE name = $1 RETURNING *', [account]);
      const row = rows[0];
      if (!row) throw missing();
      await this.deps.audit.record({ actor: principal.actor, action: 'gcloud.remove_account', target: account, outcome: 'ok', detail: { projectId: row.project_id } });
      return row;
    });
  }

  /**
   * The account a VM call means: the one with that name, else the one whose project id it is.
   * A zone where the account goes (`vm list us-central1-a`) is refused as a zone, not looked for
   * as an account to add; `zoneUse` says where the call takes a zone, when it takes one.
   */
  async resolve(projectOrAccount: string, zoneUse?: string): Promise<Account> {
    const { rows } = await this.deps.db.query<AccountRow>('SELECT * FROM gcloud_accounts WHERE name = $1 OR project_id = $1 ORDER BY (name = $1) DESC, name', [projectOrAccount]);
    const [first, second] = rows;
    if (!first) {
      const all = await this.list();
      const known = all.length ? `accounts: ${all.map((a) => `${a.name} (${a.project_id})`).join(', ')}` : 'no account is stored yet';
      if (ZONE_SHAPE.test(projectOrAccount)) {
        throw invalidInput(`project: ${projectOrAccount} is a zone, not an account or project id (${known})${zoneUse ? `; ${zoneUse}` : ''}`, { field: 'project' });
      }
      throw notFound(`project: no Google Cloud account named ${projectOrAccount} or for project ${projectOrAccount} (${known}); add one with gcloud_add_account`, { field: 'project' });
    }
    if (second && first.name !== projectOrAccount) {
      throw conflict(`project: ${projectOrAccount} is the project of accounts ${rows.map((r) => r.name).join(', ')}; pass the account name instead`, { field: 'project' });
    }
    return { name: first.name, projectId: first.project_id, clientEmail: first.client_email };
  }

  /** Clients for an account, from its stored key (re-read once it may have changed). */
  async clients(account: Account): Promise<AccountClients> {
    const now = this.deps.clock.now().getTime();
    const path = secretPathOf(account.name);
    const cached = this.cache.get(account.name);
    const sameProject = cached?.clients.account.projectId === account.projectId;
    if (cached && sameProject && stillCurrent(this.deps.secrets, path, cached.stamp, now, KEY_RECHECK_MS)) return cached.clients;
    const stamp = readStamp(this.deps.secrets, path, now);
    let secret: { value: string; version: number };
    try {
      secret = await this.deps.secrets.get(SYSTEM, { path });
    } catch (err) {
      if (err instanceof SupervisorError && err.code === 'not_found') {
        throw notFound(`the key of Google Cloud account ${account.name} is missing (secret ${path}); store it again with gcloud_add_account`);
      }
      throw err;
    }
    if (cached && sameProject && cached.version === secret.version) {
      cached.stamp = stamp;
      return cached.clients;
    }
    const key = this.storedKey(account, path, secret.value);
    const current = await this.follow(account, key);
    const clients = this.build(current, this.tokensFor(key, account.name));
    this.cache.set(account.name, { version: secret.version, stamp, clients });
    return clients;
  }

  /**
   * The key in the account's secret, which may have been written there directly (secrets set)
   * rather than checked by gcloud_add_account: unusable, or another project's, it is a setting
   * to fix, not a bad request of the caller's.
   */
  private storedKey(account: Account, path: string, value: string): ServiceAccountKey {
    const fix = `store the key file again with gcloud_add_account ${account.name} (it checks the key first), or put the last good one back with rollback_secret`;
    let key: ServiceAccountKey;
    try {
      key = parseServiceAccountKey(value, `secret ${path}`);
    } catch (err) {
      if (!(err instanceof SupervisorError)) throw err;
      throw new SupervisorError('not_configured', `${err.message}; ${fix}`, { ...err.details, secret: path });
    }
    if (key.project_id !== account.projectId) {
      throw new SupervisorError('not_configured', `secret ${path} holds a key of project ${key.project_id}, but account ${account.name} is for project ${account.projectId}; add that key as an account of its own, and ${fix}`, { secret: path, project: key.project_id });
    }
    return key;
  }

  /** A new key of the same project written over the old (a rotation by hand): list_accounts shows the key in use. */
  private async follow(account: Account, key: ServiceAccountKey): Promise<Account> {
    await this.deps.db.query('UPDATE gcloud_accounts SET client_email = $2, key_id = $3, updated_at = $4 WHERE name = $1 AND (client_email <> $2 OR key_id <> $3)', [
      account.name,
      key.client_email,
      key.private_key_id,
      this.deps.clock.now(),
    ]);
    return { ...account, clientEmail: key.client_email };
  }

  private build(account: Account, tokens: ServiceAccountTokenSource): AccountClients {
    const { settings, sleep, clock, log } = this.deps;
    return {
      account,
      compute: new ComputeClient({
        tokens,
        rootUrl: settings.gcloudComputeUrl,
        pollIntervalMs: settings.gcloudPollMs,
        operationTimeoutMs: settings.gcloudOperationTimeoutS * 1000,
        sleep,
        clock,
        log,
      }),
      monitoring: new MonitoringClient({ tokens, baseUrl: settings.gcloudMonitoringUrl, sleep, clock, log }),
    };
  }

  /** Records how the last call with the account went (list_accounts shows it). */
  async outcome(account: string, error?: SupervisorError): Promise<void> {
    const now = this.deps.clock.now();
    if (!error) await this.deps.db.query('UPDATE gcloud_accounts SET last_success_at = $2 WHERE name = $1', [account, now]);
    else await this.deps.db.query('UPDATE gcloud_accounts SET last_failure_at = $2, last_failure = $3 WHERE name = $1', [account, now, clipped(`${error.code}: ${error.message}`, 500)]);
  }

  private tokensFor(key: ServiceAccountKey, accountName: string): ServiceAccountTokenSource {
    return new ServiceAccountTokenSource(key, { clock: this.deps.clock, accountName });
  }
}

/**
 * Refuses a key that gets a token but cannot reach its project (no role on it, or no such
 * project): stored, it would fail every call later. Google's refusal says which, and why.
 */
async function assertReachable(c: AccountClients): Promise<void> {
  const { name, projectId, clientEmail } = c.account;
  await c.compute.assertListable(projectId).catch((err: unknown) => {
    if (!(err instanceof SupervisorError && (err.code === 'forbidden' || err.code === 'not_found'))) throw err;
    const check = err.code === 'not_found' ? `; check project_id in the key (${projectId})` : '';
    throw new SupervisorError(err.code, `account ${name} was not added, nothing was stored: service account ${clientEmail} cannot reach Google project ${projectId}: ${err.message}${check}`, {
      ...err.details,
      field: 'key',
      project: projectId,
    });
  });
}
