// Ingress rules as a person meets them: which names are accepted and how they are spelled,
// which rule lists cloudflared would refuse (and the message that says why), the matching order.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import type { IngressRule } from '../../src/cloudflare/client.js';
import {
  CATCH_ALL,
  compareRules,
  ingressProblems,
  isCatchAll,
  normalizeHostname,
  sameIngress,
  sortIngress,
} from '../../src/cloudflare/ingress-rules.js';
import { isError } from '../helpers/errors.js';

const invalid = (pattern: RegExp) => isError('invalid_input', pattern);

/** A valid list ending in the catch-all, so each test adds just the rule it is about. */
const withCatchAll = (...rules: IngressRule[]): IngressRule[] => [...rules, { service: 'http_status:404' }];

describe('isCatchAll and CATCH_ALL', () => {
  test('no hostname or "*", and no path, is a catch-all', () => {
    assert.equal(isCatchAll(CATCH_ALL), true);
    assert.equal(isCatchAll({ service: 'hello_world' }), true);
    assert.equal(isCatchAll({ hostname: '*', service: 'http_status:404' }), true);
    assert.equal(isCatchAll({ hostname: '', path: '', service: 'http_status:404' }), true);
  });

  test('a hostname or a path makes a rule specific', () => {
    assert.equal(isCatchAll({ hostname: 'a.example.com', service: 'http_status:404' }), false);
    assert.equal(isCatchAll({ path: '^/api', service: 'http_status:404' }), false);
    assert.equal(isCatchAll({ hostname: '*', path: '^/api', service: 'http_status:404' }), false);
  });

  test('CATCH_ALL answers 404 and cannot be changed by accident', () => {
    assert.deepEqual(CATCH_ALL, { service: 'http_status:404' });
    assert.throws(() => {
      (CATCH_ALL as { service: string }).service = 'hello_world';
    }, TypeError);
  });
});

describe('normalizeHostname', () => {
  test('trims, lower-cases and drops the root dot', () => {
    assert.equal(normalizeHostname('  API.Example.COM. '), 'api.example.com');
    assert.equal(normalizeHostname('*.Example.com'), '*.example.com');
    assert.equal(normalizeHostname('_acme-challenge.example.com'), '_acme-challenge.example.com');
  });

  test('converts internationalised names to punycode, keeping a leading "*."', () => {
    assert.equal(normalizeHostname('bücher.example.com'), 'xn--bcher-kva.example.com');
    assert.equal(normalizeHostname('BÜCHER.example.com.'), 'xn--bcher-kva.example.com');
    assert.equal(normalizeHostname('*.bücher.example.com'), '*.xn--bcher-kva.example.com');
    assert.equal(normalizeHostname('xn--bcher-kva.example.com'), 'xn--bcher-kva.example.com');
  });

  test('leaves ASCII names alone instead of reading them as IP numbers', () => {
    assert.equal(normalizeHostname('0x7f.1'), '0x7f.1');
  });

  test('accepts the length limits exactly and refuses one more', () => {
    const label63 = 'a'.repeat(63);
    assert.equal(normalizeHostname(`${label63}.com`), `${label63}.com`);
    assert.throws(() => normalizeHostname(`${'a'.repeat(64)}.com`), invalid(/64 characters.*limit is 63/));
    const name253 = `${'a'.repeat(63)}.${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(61)}`;
    assert.equal(name253.length, 253);
    assert.equal(normalizeHostname(name253), name253);
    assert.throws(() => normalizeHostname(`${name253}y`), invalid(/254 characters.*limit is 253/));
  });

  const bad: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['.', /empty/],
    ['a.com:8080', /port/],
    ['a.*.com', /single leading "\*\."/],
    ['*', /single leading "\*\."/],
    ['a*.example.com', /single leading "\*\."/],
    ['*.*.example.com', /single leading "\*\."/],
    ['**.example.com', /single leading "\*\."/],
    ['a..example.com', /empty label/],
    ['.a.example.com', /empty label/],
    ['a b.example.com', /invalid label "a b"/],
    ['a/b.example.com', /invalid label/],
    ['a%b.example.com', /invalid label/],
    ['-api.example.com', /invalid label "-api"/],
    ['api-.example.com', /invalid label "api-"/],
    ['bü%cher.example.com', /internationalised/],
  ];
  for (const [name, message] of bad) {
    test(`refuses ${JSON.stringify(name)} saying why`, () => {
      assert.throws(() => normalizeHostname(name), invalid(message));
    });
  }
});

describe('ingressProblems', () => {
  test('a typical valid list has no problems', () => {
    const rules: IngressRule[] = [
      { hostname: 'app.example.com', service: 'http://localhost:8080' },
      { hostname: 'app.example.com', path: '^/api/.*', service: 'https://127.0.0.1:8443', originRequest: { noTLSVerify: true } },
      { hostname: '*.example.com', service: 'unix:/run/app.sock' },
      { hostname: 'ssh.example.com', service: 'ssh://localhost:22' },
      { path: '\\.(jpg|png)$', service: 'http://localhost:9000' },
      { service: 'http_status:404' },
    ];
    assert.deepEqual(ingressProblems(rules), []);
  });

  test('an empty list is refused', () => {
    const problems = ingressProblems([]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /no rules.*catch-all/);
  });

  test('the last rule must be a catch-all', () => {
    assert.deepEqual(ingressProblems([{ service: 'http_status:404' }]), []);
    assert.deepEqual(ingressProblems([{ hostname: '*', service: 'http_status:404' }]), []);
    const [p1] = ingressProblems([{ hostname: 'a.example.com', service: 'http://localhost:1' }]);
    assert.match(p1 ?? '', /rule 1 \(a\.example\.com\) is the last rule.*no hostname, no path/);
    const [p2] = ingressProblems([{ hostname: 'a.example.com', service: 'http://localhost:1' }, { path: '^/x', service: 'http_status:404' }]);
    assert.match(p2 ?? '', /rule 2 \(no hostname, path \^\/x\) is the last rule/);
  });

  test('only the last rule may be a catch-all', () => {
    const problems = ingressProblems([
      { hostname: 'a.example.com', service: 'http://localhost:1' },
      { service: 'hello_world' },
      { hostname: 'b.example.com', service: 'http://localhost:2' },
      { service: 'http_status:404' },
    ]);
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /rule 2 \(no hostname\) matches every request.*never reached/);
  });

  test('a "*" is only allowed as a leading "*."', () => {
    assert.deepEqual(ingressProblems(withCatchAll({ hostname: '*.example.com', service: 'http://localhost:1' })), []);
    for (const hostname of ['a.*.example.com', '*example.com', '*.*.example.com', 'example.*']) {
      const problems = ingressProblems(withCatchAll({ hostname, service: 'http://localhost:1' }));
      assert.equal(problems.length, 1, hostname);
      assert.match(problems[0] ?? '', new RegExp(`rule 1 \\(${hostname.replace(/[.*]/g, '\\$&')}\\).*leading "\\*\\."`));
    }
  });

  test('a hostname cannot carry a port', () => {
    const [problem] = ingressProblems(withCatchAll({ hostname: 'a.example.com:8080', service: 'http://localhost:1' }));
    assert.match(problem ?? '', /rule 1 \(a\.example\.com:8080\).*port/);
  });

  test('accepts every service form cloudflared understands', () => {
    const services = [
      'http://localhost:8080',
      'https://10.0.0.5:8443',
      'http://app.internal',
      'ws://localhost:9000',
      'unix:/run/app.sock',
      'unix+tls:/run/app.sock',
      'tcp://localhost:5432',
      'ssh://localhost:22',
      'rdp://localhost:3389',
      'smb://fileserver:445',
      'http_status:100',
      'http_status:599',
      'hello_world',
      'bastion',
      'socks-proxy',
    ];
    for (const service of services) {
      assert.deepEqual(ingressProblems(withCatchAll({ hostname: 'a.example.com', service })), [], service);
    }
  });

  test('refuses malformed services, naming the rule', () => {
    const services: Array<[string, RegExp]> = [
      ['', /service is missing/],
      ['localhost:8080', /service "localhost:8080" has no scheme; cloudflared needs one, e.g\. http:\/\/localhost:8080$/],
      ['4001', /service "4001" has no scheme; cloudflared needs one, e\.g\. http:\/\/localhost:4001; a route also takes the bare port as its port \(port\)$/],
      ['htp://localhost:8080', /scheme "htp:\/\/"/],
      ['http://', /no valid host/],
      ['http://localhost:8080/', /has a path/],
      ['http://localhost:8080/api', /has a path/],
      ['unix:', /no socket path/],
      ['http_status:99', /100 to 599/],
      ['http_status:600', /100 to 599/],
      ['http_status:abc', /100 to 599/],
      ['http_status:4040', /100 to 599/],
      ['hello', /not recognised/],
    ];
    for (const [service, message] of services) {
      const problems = ingressProblems(withCatchAll({ hostname: 'a.example.com', service }));
      assert.equal(problems.length, 1, `${service}: ${problems.join(' | ')}`);
      assert.match(problems[0] ?? '', /^rule 1 \(a\.example\.com\)/);
      assert.match(problems[0] ?? '', message, service);
    }
  });

  test('a path must be a regular expression Go would compile', () => {
    for (const path of ['^/api/.*', '\\.(css|js)$', '(?i)^/admin', '(?i:/Admin)', '^/items/(?P<id>\\d+)$']) {
      assert.deepEqual(ingressProblems(withCatchAll({ hostname: 'a.example.com', path, service: 'http://localhost:1' })), [], path);
    }
    const bad: Array<[string, RegExp]> = [
      ['(', /not a valid regular expression/],
      ['[a-', /not a valid regular expression/],
      ['*x', /not a valid regular expression/],
      ['^/api(?=/v2)', /lookaround or a backreference/],
      ['^/(a)/\\1', /lookaround or a backreference/],
    ];
    for (const [path, message] of bad) {
      const problems = ingressProblems(withCatchAll({ hostname: 'a.example.com', path, service: 'http://localhost:1' }));
      assert.equal(problems.length, 1, path);
      assert.match(problems[0] ?? '', /^rule 1 \(a\.example\.com, path /);
      assert.match(problems[0] ?? '', message, path);
    }
  });

  test('the same hostname and path twice is refused; a different path is fine', () => {
    const fine = withCatchAll(
      { hostname: 'a.example.com', path: '^/api', service: 'http://localhost:1' },
      { hostname: 'a.example.com', service: 'http://localhost:2' },
    );
    assert.deepEqual(ingressProblems(fine), []);
    const problems = ingressProblems(
      withCatchAll(
        { hostname: 'a.example.com', service: 'http://localhost:1' },
        { hostname: 'b.example.com', service: 'http://localhost:2' },
        { hostname: 'A.example.com', service: 'http://localhost:3' },
      ),
    );
    assert.equal(problems.length, 1);
    assert.match(problems[0] ?? '', /rule 3 \(A\.example\.com\) repeats the hostname and path of rule 1/);
  });

  test('reports every problem, not only the first', () => {
    const problems = ingressProblems([
      { hostname: 'a.example.com:1', service: 'http://localhost:1/x' },
      { hostname: 'b.example.com', path: '(', service: 'nope' },
    ]);
    assert.equal(problems.length, 5, problems.join('\n'));
  });
});

describe('sortIngress and compareRules', () => {
  const exact = { hostname: 'app.example.com', service: 'http://localhost:1' };
  const exactPath = { hostname: 'app.example.com', path: '^/api', service: 'http://localhost:2' };
  const exactLongerPath = { hostname: 'app.example.com', path: '^/api/v2', service: 'http://localhost:3' };
  const deepWildcard = { hostname: '*.dev.example.com', service: 'http://localhost:4' };
  const wildcard = { hostname: '*.example.com', service: 'http://localhost:5' };
  const otherWildcard = { hostname: '*.other.org', service: 'http://localhost:6' };
  const anyHostPath = { path: '^/health$', service: 'http://localhost:7' };
  const catchAll = { service: 'http_status:503' };

  test('exact before deeper wildcard before broader wildcard, then host-less paths, then the catch-all', () => {
    const sorted = sortIngress([catchAll, anyHostPath, wildcard, otherWildcard, exact, deepWildcard]);
    assert.deepEqual(sorted, [exact, deepWildcard, wildcard, otherWildcard, anyHostPath, catchAll]);
  });

  test('for one hostname, path rules come first, longer paths before their prefixes', () => {
    const sorted = sortIngress([exact, exactPath, exactLongerPath]);
    assert.deepEqual(sorted, [exactLongerPath, exactPath, exact, CATCH_ALL]);
  });

  test('hostnames compare label by label from the right, so siblings stay together', () => {
    const names = ['b.example.com', 'a.other.org', 'x.a.example.com', 'a.example.com', 'example.com'];
    const sorted = sortIngress(names.map((hostname) => ({ hostname, service: 'http://localhost:1' })));
    assert.deepEqual(
      sorted.map((r) => r.hostname),
      ['example.com', 'a.example.com', 'x.a.example.com', 'b.example.com', 'a.other.org', undefined],
    );
  });

  test('appends CATCH_ALL when there is none, keeps the first catch-all and drops later ones', () => {
    assert.deepEqual(sortIngress([exact]), [exact, CATCH_ALL]);
    assert.deepEqual(sortIngress([]), [CATCH_ALL]);
    const hello = { service: 'hello_world' };
    assert.deepEqual(sortIngress([catchAll, exact, hello]), [exact, catchAll]);
    const star = { hostname: '*', service: 'http_status:410' };
    assert.deepEqual(sortIngress([exact, star]), [exact, star]);
  });

  test('the appended catch-all is a copy, so changing the result leaves CATCH_ALL alone', () => {
    const sorted = sortIngress([exact]);
    const last = sorted.at(-1);
    assert.notEqual(last, CATCH_ALL);
    if (last) last.service = 'hello_world';
    assert.equal(CATCH_ALL.service, 'http_status:404');
  });

  test('is stable for rules that compare equal and does not change its input', () => {
    const first = { hostname: 'same.example.com', service: 'http://localhost:1' };
    const second = { hostname: 'same.example.com', service: 'http://localhost:2' };
    assert.equal(compareRules(first, second), 0);
    const input = [second, wildcard, first];
    const copy = [...input];
    assert.deepEqual(sortIngress(input), [second, first, wildcard, CATCH_ALL]);
    assert.deepEqual(input, copy);
  });

  test('gives the same order for any input order, and the result always validates', () => {
    const rules = [exact, exactPath, exactLongerPath, deepWildcard, wildcard, otherWildcard, anyHostPath, catchAll];
    const expected = sortIngress(rules);
    assert.deepEqual(ingressProblems(expected), []);
    let seed = 7;
    const random = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
    for (let round = 0; round < 50; round++) {
      const shuffled = [...rules].sort(() => random() - 0.5);
      const sorted = sortIngress(shuffled);
      assert.deepEqual(sorted, expected);
      assert.deepEqual(ingressProblems(sorted), []);
    }
  });

  test('compareRules agrees with sortIngress on the class order', () => {
    assert.ok(compareRules(exact, wildcard) < 0);
    assert.ok(compareRules(deepWildcard, wildcard) < 0);
    assert.ok(compareRules(wildcard, anyHostPath) < 0);
    assert.ok(compareRules(anyHostPath, catchAll) < 0);
    assert.ok(compareRules(exactPath, exact) < 0);
  });
});

describe('sameIngress', () => {
  test('ignores key order and undefined fields', () => {
    const a: IngressRule[] = [
      { hostname: 'a.example.com', service: 'http://localhost:1', originRequest: { connectTimeout: '30s', noTLSVerify: true } },
      { service: 'http_status:404' },
    ];
    const b: IngressRule[] = [
      { originRequest: { noTLSVerify: true, connectTimeout: '30s' }, service: 'http://localhost:1', hostname: 'a.example.com', path: undefined },
      { service: 'http_status:404', originRequest: undefined },
    ];
    assert.equal(sameIngress(a, b), true);
  });

  test('notices changed values, order, length and nested settings', () => {
    const base: IngressRule[] = [
      { hostname: 'a.example.com', service: 'http://localhost:1', originRequest: { connectTimeout: '30s' } },
      { hostname: 'b.example.com', service: 'http://localhost:2' },
      { service: 'http_status:404' },
    ];
    const [r1, r2, r3] = base as [IngressRule, IngressRule, IngressRule];
    assert.equal(sameIngress(base, [r2, r1, r3]), false);
    assert.equal(sameIngress(base, [r1, r3]), false);
    assert.equal(sameIngress(base, [{ ...r1, service: 'http://localhost:9' }, r2, r3]), false);
    assert.equal(sameIngress(base, [{ ...r1, originRequest: { connectTimeout: 30 } }, r2, r3]), false);
    assert.equal(sameIngress(base, [{ ...r1, path: '^/x' }, r2, r3]), false);
    assert.equal(sameIngress([], []), true);
  });
});
