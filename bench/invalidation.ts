import { performance } from 'node:perf_hooks';
import { adminPrincipal } from '../src/core/principal.js';
import { openSharedDaemons } from '../test/helpers/shared-daemons.js';

const ROUNDS = 30;
const admin = adminPrincipal('bench');

async function until(check: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  while (!(await check())) {
    if (performance.now() - start > 5_000) throw new Error('not seen within 5 s');
    await new Promise((resolve) => setImmediate(resolve));
  }
  return performance.now() - start;
}

const summary = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return `p50 ${sorted[Math.floor(sorted.length / 2)]!.toFixed(1)} ms  max ${sorted.at(-1)!.toFixed(1)} ms`;
};

/**
 * Two daemons on one PostgreSQL (in this process, each with its own pool and
 * notification connection): how long after a write on A does B read the new value,
 * and after a revocation on A does B refuse the token — with B's caches warm.
 */
export async function benchInvalidation(): Promise<void> {
  const shared = await openSharedDaemons(2);
  const [a, b] = shared.apps as [(typeof shared.apps)[0], (typeof shared.apps)[0]];
  try {
    const path = 'project/bench/shared';
    const secretLag: number[] = [];
    const tokenLag: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await a.secrets.set(admin, { path, value: `v${i}` });
      await b.secrets.get(admin, { path });
      await a.secrets.set(admin, { path, value: `w${i}` });
      secretLag.push(await until(async () => (await b.secrets.get(admin, { path })).value === `w${i}`));
      const t = await a.auth.tokens.create({ name: `bench-${i}`, project: 'bench' });
      await b.auth.tokens.verify(t.token);
      await a.auth.tokens.revoke(t.id);
      tokenLag.push(await until(async () => (await b.auth.tokens.verify(t.token)) === undefined));
    }
    console.log(`\n[postgres] two daemons, ${ROUNDS} rounds, measured from the writer's commit`);
    console.log(`  secret write on A → read on B      ${summary(secretLag)}`);
    console.log(`  token revoked on A → refused on B  ${summary(tokenLag)}`);
  } finally {
    await shared.close();
  }
}
