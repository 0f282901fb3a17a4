// The gcloud domain on a test database, pointed at a fake Google: the fake's time is the
// services' manual clock plus the real time elapsed, so zone operations still move forward
// while a test advances the clock by hours. Operations are called as an admin, as MCP would.
import { LocalInvoker } from '../../src/catalog/local-invoker.js';
import type { Progress } from '../../src/catalog/operation.js';
import { adminPrincipal } from '../../src/core/principal.js';
import type { Backend } from '../helpers/db.js';
import { openTestServices, type TestServices } from '../helpers/services.js';
import { startFakeGoogle, type FakeGoogle, type ServiceAccountKeyJson } from '../fakes/gcloud/index.js';

export type Json = Record<string, unknown>;

export interface DomainFixture {
  s: TestServices;
  fake: FakeGoogle;
  /** Every answer and error text seen, for the secret scan. */
  seen: string[];
  progress: Progress[];
  sleeps: number[];
  call(name: string, input: Json): Promise<Json>;
  /** An account in the fake, added through gcloud_add_account. */
  account(name: string, projectId: string): Promise<{ email: string; key: ServiceAccountKeyJson }>;
  /** Compute and Monitoring calls since the last reset (token grants left out). */
  apiCalls(): Array<{ service: string; method: string; path: string; project?: string; account?: string }>;
  close(): Promise<void>;
}

export async function openDomain(backend: Backend): Promise<DomainFixture> {
  const t0 = Date.now();
  const opened: { s?: TestServices } = {};
  const base = new Date('2026-11-23T10:00:00Z').getTime();
  const fake = await startFakeGoogle({ now: () => (opened.s ? opened.s.clock.now().getTime() : base) + (Date.now() - t0) });
  const sleeps: number[] = [];
  const services = await openTestServices(
    backend,
    { SUPERVISOR_GCLOUD_COMPUTE_URL: fake.computeRootUrl, SUPERVISOR_GCLOUD_MONITORING_URL: fake.monitoringUrl, SUPERVISOR_GCLOUD_POLL_MS: '5' },
    { sleep: async (ms) => void sleeps.push(ms) },
  );
  opened.s = services;
  const invoker = new LocalInvoker(services, adminPrincipal('test-admin'), 'internal');
  const seen: string[] = [];
  const progress: Progress[] = [];
  const call = async (name: string, input: Json) => {
    try {
      const answer = await invoker.invoke(name, input, { onProgress: (p) => progress.push(p) });
      seen.push(JSON.stringify(answer));
      return answer;
    } catch (err) {
      seen.push(String((err as Error).message), JSON.stringify(err));
      throw err;
    }
  };
  return {
    s: services,
    fake,
    seen,
    progress,
    sleeps,
    call,
    account: async (name, projectId) => {
      const { email, key } = fake.addServiceAccount({ projectId, email: `supervisor-meta@${projectId}.iam.gserviceaccount.com` });
      await call('gcloud_add_account', { account: name, key: JSON.stringify(key) });
      return { email, key };
    },
    apiCalls: () => fake.calls.filter((c) => c.service !== 'oauth').map((c) => ({ service: c.service, method: c.method, path: c.path, project: c.project, account: c.account })),
    close: async () => {
      await services.close();
      await fake.close();
    },
  };
}
