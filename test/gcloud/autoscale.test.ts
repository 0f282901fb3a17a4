// decideScaling(): one test per rule, with scripted inputs.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { decideScaling, DEFAULT_LADDER, DEFAULT_POLICY, type AutoscaleInput, type MetricWindow } from '../../src/gcloud/autoscale.js';

const NOW = new Date('2026-03-02T12:00:00Z');
const minutesAgo = (m: number) => new Date(NOW.getTime() - m * 60_000);
const m = (average: number, max: number, coverage = 1): MetricWindow => ({ average, max, coverage });

/** A VM on e2-standard-2, up for a day, last changed a day ago, with the given metrics. */
function input(over: Partial<AutoscaleInput> = {}, metrics: Partial<AutoscaleInput['metrics']> = {}): AutoscaleInput {
  return {
    machineType: 'e2-standard-2',
    metrics: { cpu: m(50, 60), memory: m(50, 60), disk: m(50, 60), ...metrics },
    lastChangeAt: minutesAgo(24 * 60),
    startedAt: minutesAgo(24 * 60),
    now: NOW,
    ...over,
  };
}

describe('scaling up', () => {
  test('the seed rule: CPU average over 70 % and max over 85 % over 2 h → one step up', () => {
    const d = decideScaling(input({}, { cpu: m(72, 90) }));
    assert.deepEqual([d.action, d.from, d.target, d.rule], ['up', 'e2-standard-2', 'e2-standard-4', 'scale_up']);
    assert.match(d.reason, /CPU avg 72% \/ max 90% over 120 min is over 70% \/ 85%: one step up to e2-standard-4/);
  });

  test('both halves of the rule are needed: a high average without a high peak, or a spike alone, is steady', () => {
    assert.equal(decideScaling(input({}, { cpu: m(75, 84) })).action, 'none');
    assert.equal(decideScaling(input({}, { cpu: m(40, 100) })).action, 'none');
    assert.equal(decideScaling(input({}, { cpu: m(70, 86) })).rule, 'steady', 'over means over: 70 is not');
  });

  test('at the top of the ladder nothing happens, and the decision records why', () => {
    const d = decideScaling(input({ machineType: 'e2-standard-16' }, { cpu: m(95, 100) }));
    assert.deepEqual([d.action, d.target, d.rule], ['none', 'e2-standard-16', 'top_of_ladder']);
    assert.match(d.reason, /at top of ladder/);
  });
});

describe('holding back', () => {
  test('a type not on the ladder is left alone', () => {
    const d = decideScaling(input({ machineType: 'n2-standard-4' }, { cpu: m(95, 100) }));
    assert.equal(d.rule, 'not_on_ladder');
  });

  test('the first minutes after a start are ignored', () => {
    const d = decideScaling(input({ startedAt: minutesAgo(10) }, { cpu: m(95, 100) }));
    assert.deepEqual([d.action, d.rule], ['none', 'warmup']);
    assert.match(d.reason, /started 10 min ago; waiting 15 min/);
    assert.equal(decideScaling(input({ startedAt: minutesAgo(15) }, { cpu: m(95, 100) })).action, 'up');
  });

  test('no change during the cooldown after any change', () => {
    const d = decideScaling(input({ lastChangeAt: minutesAgo(59), policy: { windowMinutes: 30 } }, { cpu: m(95, 100) }));
    assert.deepEqual([d.action, d.rule], ['none', 'cooldown']);
    assert.match(d.reason, /changed 59 min ago; cooldown is 60 min/);
    assert.equal(decideScaling(input({ lastChangeAt: minutesAgo(60), policy: { windowMinutes: 30 } }, { cpu: m(95, 100) })).action, 'up');
    assert.equal(decideScaling(input({ lastChangeAt: minutesAgo(30), policy: { cooldownMinutes: 20, windowMinutes: 30 } }, { cpu: m(95, 100) })).action, 'up');
  });

  test("nor until the window holds only the current type's load: the old type's would scale it up again", () => {
    // Cooldown (60 min) over, but half of the 2-h window is still the smaller type's load.
    const d = decideScaling(input({ lastChangeAt: minutesAgo(90) }, { cpu: m(80, 92) }));
    assert.deepEqual([d.action, d.rule], ['none', 'cooldown']);
    assert.match(d.reason, /changed 90 min ago; waiting until the 120-min window holds only e2-standard-2's load/);
    assert.equal(decideScaling(input({ lastChangeAt: minutesAgo(120) }, { cpu: m(80, 92) })).action, 'up');
  });

  test('too little data, or none, means no action', () => {
    const thin = decideScaling(input({}, { cpu: m(95, 100, 0.5) }));
    assert.deepEqual([thin.action, thin.rule], ['none', 'insufficient_data']);
    assert.match(thin.reason, /50% of the window over the last 120 min; need 80%/);
    assert.match(decideScaling(input({}, { cpu: null })).reason, /no CPU data/);
    // A policy that asks for no coverage still needs some data, and says so rather than "need 0%".
    assert.match(decideScaling(input({ policy: { ...DEFAULT_POLICY, minCoverage: 0 } }, { cpu: null })).reason, /^no CPU data over the last 120 min; some is needed before acting$/);
    assert.equal(decideScaling(input({}, { cpu: m(95, 100, 0.8) })).action, 'up');
  });
});

describe('scaling down', () => {
  const quiet = { cpu: m(10, 20), memory: m(15, 25), disk: m(10, 10) };

  test('every metric low and the load fits the smaller type → one step down', () => {
    const d = decideScaling(input({}, quiet));
    assert.deepEqual([d.action, d.target, d.rule], ['down', 'e2-medium', 'scale_down']);
    assert.match(d.reason, /on e2-medium that would be CPU 20% \/ 40%, memory 30% \/ 50%/);
  });

  test('missing memory (no Ops Agent) means no scale-down, with that reason', () => {
    const d = decideScaling(input({}, { ...quiet, memory: null }));
    assert.deepEqual([d.action, d.rule], ['none', 'memory_unknown']);
    assert.match(d.reason, /not reported \(no Ops Agent\)/);
    assert.equal(decideScaling(input({}, { ...quiet, memory: m(10, 10, 0.3) })).rule, 'memory_unknown');
  });

  test('one metric that is not low holds it: memory, or disk when present; no disk series does not', () => {
    assert.equal(decideScaling(input({}, { ...quiet, memory: m(30, 45) })).action, 'none');
    assert.match(decideScaling(input({}, { ...quiet, disk: m(90, 95) })).reason, /disk avg 90% \/ max 95% is not/);
    assert.equal(decideScaling(input({}, { ...quiet, disk: null })).action, 'down');
  });

  test('low here but too high projected onto the smaller type stays put', () => {
    // On the default ladder each step halves CPU and memory, so anything under the down
    // thresholds (20 % / 40 %) still fits after doubling; a ladder with a bigger drop does not.
    const ladder = [
      { machineType: 'tiny', vcpus: 1, memoryGb: 1 },
      { machineType: 'big', vcpus: 8, memoryGb: 8 },
    ];
    const d = decideScaling(input({ machineType: 'big', ladder }, { cpu: m(15, 30), memory: m(15, 30), disk: null }));
    assert.deepEqual([d.action, d.rule], ['none', 'projected_too_high']);
    assert.match(d.reason, /on tiny that would be CPU 120% \/ 240%/);
  });

  test('at the bottom of the ladder nothing happens', () => {
    const d = decideScaling(input({ machineType: 'e2-micro' }, quiet));
    assert.deepEqual([d.action, d.rule], ['none', 'bottom_of_ladder']);
  });

  test('never past either end, whatever the load', () => {
    for (const step of DEFAULT_LADDER) {
      for (const metrics of [{ cpu: m(99, 100) }, quiet]) {
        const d = decideScaling(input({ machineType: step.machineType }, metrics));
        assert.ok(DEFAULT_LADDER.some((s) => s.machineType === d.target), `${step.machineType} → ${d.target}`);
        const moved = Math.abs(DEFAULT_LADDER.findIndex((s) => s.machineType === d.target) - DEFAULT_LADDER.indexOf(step));
        assert.ok(moved <= 1, 'one step at a time');
      }
    }
  });
});

test('the default policy is the seed rule', () => {
  assert.deepEqual(
    [DEFAULT_POLICY.windowMinutes, DEFAULT_POLICY.upAveragePercent, DEFAULT_POLICY.upMaxPercent],
    [120, 70, 85],
  );
});
