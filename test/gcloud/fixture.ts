// A fake Google with two service accounts, each allowed on its own project, and helpers that
// build our clients against it with recorded sleeps and a captured pino log.
import { ServiceAccountTokenSource, type TokenSourceOptions } from '../../src/gcloud/auth.js';
import { ComputeClient, type ComputeClientOptions } from '../../src/gcloud/compute.js';
import { parseServiceAccountKey } from '../../src/gcloud/key.js';
import { MonitoringClient, type MonitoringClientOptions } from '../../src/gcloud/monitoring.js';
import { createLogger, type Logger } from '../../src/core/log.js';
import { startFakeGoogle, type FakeGoogle, type FakeGoogleOptions, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';

export const ALPHA = 'alpha-project';
export const BETA = 'beta-project';
export const ZONE = 'us-central1-a';

export interface Account {
  email: string;
  key: ServiceAccountKeyJson;
  tokens: ServiceAccountTokenSource;
}

export interface GoogleFixture {
  fake: FakeGoogle;
  alpha: Account;
  beta: Account;
  /** Waits asked for by clients (retries, polls), recorded rather than slept. */
  sleeps: number[];
  /** Lines the clients logged. */
  logs: string[];
  log: Logger;
  compute(account: Account, extra?: Partial<ComputeClientOptions>): ComputeClient;
  monitoring(account: Account, extra?: Partial<MonitoringClientOptions>): MonitoringClient;
  tokensFor(key: ServiceAccountKeyJson, extra?: TokenSourceOptions): ServiceAccountTokenSource;
  close(): Promise<void>;
}

export async function openGoogle(options: FakeGoogleOptions = {}): Promise<GoogleFixture> {
  const fake = await startFakeGoogle(options);
  const logs: string[] = [];
  const log = createLogger('debug', { write: (line: string) => void logs.push(line) });
  const sleeps: number[] = [];
  const sleep = async (ms: number) => void sleeps.push(ms);
  const tokensFor = (key: ServiceAccountKeyJson, extra?: TokenSourceOptions) => new ServiceAccountTokenSource(parseServiceAccountKey(JSON.stringify(key), 'test key'), extra);
  const account = (projectId: string, email: string): Account => {
    const { key } = fake.addServiceAccount({ projectId, email });
    return { email, key, tokens: tokensFor(key) };
  };
  return {
    fake,
    alpha: account(ALPHA, `deployer@${ALPHA}.iam.gserviceaccount.com`),
    beta: account(BETA, `deployer@${BETA}.iam.gserviceaccount.com`),
    sleeps,
    logs,
    log,
    tokensFor,
    compute: (acc, extra = {}) => new ComputeClient({ tokens: acc.tokens, rootUrl: fake.computeRootUrl, sleep, pollIntervalMs: 5, log, ...extra }),
    monitoring: (acc, extra = {}) => new MonitoringClient({ tokens: acc.tokens, baseUrl: fake.monitoringUrl, sleep, log, ...extra }),
    close: () => fake.close(),
  };
}
