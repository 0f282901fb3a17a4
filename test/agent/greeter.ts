// A tiny project for the loop tests: its check passes once greet('Ada') says "Hello, Ada!".
// The fake agent plans, then writes a good or a bad greet.mjs, as each test scripts it.
import type { TestContext } from 'node:test';
import { PivLoop, type PivLoopDeps, type StartPivInput } from '../../src/agent/loop.js';
import { MemoryPivStore } from '../../src/agent/store.js';
import { AUTHOR, fakeAgent, gitRepo, type FakeCall, type FakeRule, type FakeStep } from './fixture.js';

/** A small project whose check passes once greet('Ada') says "Hello, Ada!". */
export const GREETER = {
  'README.md': '# Greeter\n\nSays hello.\n',
  'package.json': JSON.stringify({ name: 'greeter', private: true, scripts: { test: 'node check.mjs' } }),
  'check.mjs': [
    "import { greet } from './greet.mjs';",
    "const got = greet('Ada');",
    "if (got !== 'Hello, Ada!') { console.error(`expected \"Hello, Ada!\", got ${JSON.stringify(got)}`); process.exit(1); }",
    "console.log('check passed');",
    '',
  ].join('\n'),
  'greet.mjs': "export const greet = () => 'Hi';\n",
};
export const FEATURE = 'Greet people by name';
export const PLAN = '1. Make greet(name) in greet.mjs return "Hello, <name>!".\n2. check.mjs covers it.';
export const GOOD: FakeStep = { text: 'greet() now uses the name.', writes: { 'greet.mjs': 'export const greet = (name) => `Hello, ${name}!`;\n' } };
export const bad = (says: string): FakeStep => ({ text: 'Changed greet().', writes: { 'greet.mjs': `export const greet = () => '${says}';\n` } });
export const planRule: FakeRule = { match: 'PLAN phase', text: PLAN, turns: 2, costUsd: 0.01 };

/** Generous limits: these tests are about outcomes, not speed. */
export const SETTINGS = { firstOutputTimeoutMs: 30_000, idleTimeoutMs: 30_000, validationTimeoutMs: 60_000 };

export interface Setup {
  dir: string;
  store: MemoryPivStore;
  loop: PivLoop;
  calls: () => Promise<FakeCall[]>;
  input: StartPivInput;
}

export async function setup(t: TestContext, implement: FakeStep[], deps: Partial<PivLoopDeps> = {}, rules: FakeRule[] = [planRule]): Promise<Setup> {
  const dir = await gitRepo(t, GREETER);
  const agent = await fakeAgent(t, [...rules, { match: 'IMPLEMENT phase', attempts: implement }]);
  const store = new MemoryPivStore();
  const loop = new PivLoop({ agent: agent.runner, store, author: AUTHOR, ...deps });
  return { dir, store, loop, calls: agent.calls, input: { repoDir: dir, feature: FEATURE, validationCommands: ['node check.mjs'], settings: SETTINGS } };
}

