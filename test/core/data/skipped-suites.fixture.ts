// A file for the test runner's own test (test/core/test-runner.test.ts): one suite that
// always runs, and PostgreSQL suites that are skipped whole when it is unreachable.
import { describe, test } from 'node:test';
import { skipReason, testBackends } from '../../helpers/db.js';

describe('always runs', () => {
  test('one', () => undefined);
});

for (const backend of testBackends()) {
  describe(`storage [${backend}]`, { skip: await skipReason(backend) }, () => {
    test('a', () => undefined);
    describe('nested', () => {
      for (const n of [1, 2, 3]) test(`generated ${n}`, () => undefined);
    });
    test('b', () => undefined);
  });
}
