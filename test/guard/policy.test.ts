import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync } from 'node:fs';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { YamlSource } from '../../src/config/yaml-reader.ts';
import { readPolicy, defaultPolicy } from '../../src/guard/policy.ts';
import { UsageError } from '../../src/config/errors.ts';
import { writePolicy } from './guard-kit.ts';

const read = (text: string) => readPolicy(new YamlSource('g.yaml', text));
const fails = (text: string, re: RegExp) => assert.throws(() => read(text), (e: unknown) => e instanceof UsageError && re.test(e.message), text);

test('policy: every key read, durations in ms; the default notifies and never reaps', () => {
  const p = read('users: [alice, 1001]\nexclude_users: bob\nmin_age: 90s\nrules:\n  - reason: [run-ended, orphan]\n    notify: 0s\n    reap: 10m\n  - severity: critical\n    notify: 1m\nnotify:\n  webhook: http://127.0.0.1:9/h\n  command: /bin/true\n  terminal: false\n  repeat: 2h\nquiet_hours: 22:00-07:30\n');
  assert.deepEqual(p.users, ['alice', '1001']);
  assert.deepEqual(p.excludeUsers, ['bob']);
  assert.equal(p.minAgeMs, 90_000);
  assert.deepEqual(p.rules, [{ reasons: ['run-ended', 'orphan'], notifyMs: 0, reapMs: 600_000 }, { severities: ['critical'], notifyMs: 60_000 }]);
  assert.deepEqual(p.notify, { webhook: 'http://127.0.0.1:9/h', command: '/bin/true', terminal: false, repeatMs: 7_200_000, timeoutMs: 5000 });
  assert.deepEqual(p.quietHours, { start: 22 * 60, end: 7 * 60 + 30 });
  const d = defaultPolicy();
  assert.ok(d.rules.every((r) => r.reapMs === undefined), 'the built-in default never reaps');
  assert.ok(d.rules.some((r) => r.notifyMs !== undefined));
});

test('policy: mistakes name file:line:col, the key, and a did-you-mean', () => {
  fails('min_age: 1m\nrulez: []\n', /^g\.yaml:2:1: rulez: unknown key 'rulez', did you mean rules\?/);
  fails('rules:\n  - reason: stoped\n    notify: 0s\n', /^g\.yaml:2:13: rules\[0\]\.reason: unknown stray reason 'stoped'/);
  fails('rules:\n  - reason: orphan\n    reap: soon\n', /^g\.yaml:3:11: rules\[0\]\.reap: invalid reap 'soon'/);
  fails('rules:\n  - reason: orphan\n', /rules\[0\]\.notify: expected notify or reap/);
  fails('rules:\n  - notify: 0s\n', /rules\[0\]\.reason: expected a reason/);
  fails('notify:\n  webhok: http://x\n', /^g\.yaml:2:3: notify\.webhok: unknown key 'webhok', did you mean webhook\?/);
  fails('notify:\n  webhook: ftp://x\n', /notify\.webhook: expected an http:\/\/ or https:\/\/ URL/);
  fails('quiet_hours: 25:00-07:00\n', /quiet_hours: expected a time range/);
  fails('users: []\n', /users: expected at least one user/);
});

test('guard check: a bad policy exits 2 with file:line:col and nothing scanned; a good one prints its verdicts', async () => {
  const home = tempHome();
  const bad = writePolicy(home, 'min_age: 1m\nrules:\n  - reason: orphan\n    notfy: 0s\n');
  const res = await runCorral(['guard', 'check', '--policy', bad], { home });
  assert.equal(res.code, 2);
  assert.match(res.stderr, new RegExp(`${bad}:4:5: rules\\[0\\]\\.notfy: unknown key 'notfy', did you mean notify\\?`));
  const run = await runCorral(['guard', 'run', '--once', '--policy', bad], { home });
  assert.equal(run.code, 2, 'guard run refuses the same policy before scanning');
  const missing = await runCorral(['guard', 'check', '--policy', `${home}/nope.yaml`], { home });
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /does not exist/);
  // a user no one has: check prints a verdict per covered stray, and there is none
  const good = writePolicy(home, 'users: [corral-no-such-user]\nrules:\n  - severity: [warning, critical]\n    notify: 0s\n', 'good.yaml');
  const ok = await runCorral(['guard', 'check', '--policy', good, '--json'], { home });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual(JSON.parse(ok.stdout), { policy: good, strays: [] });
});

test('guard as root refuses a policy file another user could write (exit 2)', async (t) => {
  if (process.getuid?.() !== 0) return t.skip('the root rule applies to root only');
  const home = tempHome();
  const path = writePolicy(home, 'users: [corral-no-such-user]\n');
  chmodSync(path, 0o666);
  const res = await runCorral(['guard', 'check', '--policy', path], { home });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /refusing policy .*group or other users can write it \(mode 0666\)/);
  assert.match(res.stderr, /chmod go-w/);
});

test('guard run: a non-loopback metrics address is refused without --metrics-public; a too short interval too', async () => {
  const home = tempHome();
  const res = await runCorral(['guard', 'run', '--once', '--metrics', '0.0.0.0:9464'], { home });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /not a loopback address/);
  const fast = await runCorral(['guard', 'run', '--once', '--interval', '1ms'], { home });
  assert.equal(fast.code, 2);
});
