import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { GroupCommit } from '../../src/core/group-commit.js';

/** A GroupCommit whose statements wait until the test lets them go; it records what each one carried. */
function harness(options: { maxInFlight: number; maxBatch: number }) {
  const sent: Array<{ kind: 'one' | 'many'; items: number[]; done(fail?: Error): void }> = [];
  const statement = (kind: 'one' | 'many', items: number[]) =>
    new Promise<number[]>((resolve, reject) => sent.push({ kind, items, done: (fail) => (fail ? reject(fail) : resolve(items.map((n) => n * 10))) }));
  const commit = new GroupCommit<number, number>({
    ...options,
    one: async (n) => (await statement('one', [n]))[0]!,
    many: (items) => statement('many', items),
  });
  return { commit, sent };
}

/** Past the setImmediate that frees a returned batch's slot (registered after its answers are delivered). */
const turn = async () => {
  for (let i = 0; i < 2; i++) await new Promise((resolve) => setImmediate(resolve));
};

describe('group commit', () => {
  test('a lone item goes out at once, alone; items arriving meanwhile go out together when a slot frees', async () => {
    const { commit, sent } = harness({ maxInFlight: 1, maxBatch: 10 });
    const first = commit.submit(1);
    assert.deepEqual(sent.map((s) => [s.kind, s.items]), [['one', [1]]]);
    const rest = [2, 3, 4].map((n) => commit.submit(n));
    assert.equal(sent.length, 1);
    sent[0]!.done();
    assert.equal(await first, 10);
    await turn();
    assert.deepEqual(sent.map((s) => [s.kind, s.items]), [['one', [1]], ['many', [2, 3, 4]]]);
    sent[1]!.done();
    assert.deepEqual(await Promise.all(rest), [20, 30, 40]);
    assert.deepEqual(commit.stats, { batches: 2, items: 4 });
  });

  test('maxInFlight batches run at once, and a batch carries maxBatch items at most', async () => {
    const { commit, sent } = harness({ maxInFlight: 2, maxBatch: 3 });
    const answers = Array.from({ length: 8 }, (_, n) => commit.submit(n));
    assert.deepEqual(sent.map((s) => s.items), [[0], [1]]);
    sent[0]!.done();
    await turn();
    assert.deepEqual(sent.map((s) => s.items), [[0], [1], [2, 3, 4]]);
    sent[1]!.done();
    await turn();
    assert.deepEqual(sent.map((s) => s.items), [[0], [1], [2, 3, 4], [5, 6, 7]]);
    sent[2]!.done();
    sent[3]!.done();
    assert.deepEqual(await Promise.all(answers), [0, 10, 20, 30, 40, 50, 60, 70]);
  });

  test('a batch that fails rejects each of its items with the error, and the next batch still goes out', async () => {
    const { commit, sent } = harness({ maxInFlight: 1, maxBatch: 10 });
    const first = commit.submit(1);
    const failing = [2, 3].map((n) => commit.submit(n));
    sent[0]!.done();
    await first;
    await turn();
    const boom = new Error('boom');
    sent[1]!.done(boom);
    for (const answer of await Promise.allSettled(failing)) assert.deepEqual(answer, { status: 'rejected', reason: boom });
    await turn();
    const after = commit.submit(4);
    sent[2]!.done();
    assert.equal(await after, 40);
  });
});
