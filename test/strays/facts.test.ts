import assert from 'node:assert/strict';
import { realpathSync } from 'node:fs';
import { test } from 'node:test';
import { commandOf, detectRewritten, trimArgv, userResolver } from '../../src/strays/facts.ts';

test("the incident's setproctitle'd trainer is flagged: argv[0] 'python restarts_count 0' names no executable", () => {
  const r = detectRewritten({ pid: process.pid, cmdline: ['python restarts_count 0', '', '', ''], exe: '/usr/bin/python3.10' });
  assert.deepEqual(r, { argv0: 'python restarts_count 0', exe: '/usr/bin/python3.10' });
});

test('a name that is not the executable is flagged; the executable deleted since is still named', () => {
  assert.deepEqual(detectRewritten({ pid: process.pid, cmdline: ['worker', '--id', '3'], exe: '/usr/bin/sleep (deleted)' }), { argv0: 'worker', exe: '/usr/bin/sleep' });
});

test('ordinary ways argv[0] differs from the executable are not rewrites', () => {
  const sh = realpathSync('/bin/sh');
  const cases: [string[], string][] = [
    [['/bin/sh', '-c', 'x'], sh], // a symlink (sh -> dash)
    [['sh', '-c', 'x'], sh], // found through PATH
    [['python3', 'train.py'], '/usr/bin/python3.12'], // a versioned interpreter
    [['-bash'], '/usr/bin/bash'], // a login shell
    [['/usr/bin/sleep', '5'], '/usr/bin/sleep'],
    [['node', 'x.js'], process.execPath],
  ];
  for (const [cmdline, exe] of cases) assert.equal(detectRewritten({ pid: process.pid, cmdline, exe }), undefined, cmdline.join(' '));
  assert.equal(detectRewritten({ pid: process.pid, cmdline: [], exe: '/usr/bin/sleep' }), undefined, 'kernel threads and zombies have no argv');
  assert.equal(detectRewritten({ pid: process.pid, cmdline: ['x'] }), undefined, 'an unreadable exe proves nothing');
});

test('command lines: setproctitle padding dropped, an empty one shown as [comm]', () => {
  assert.deepEqual(trimArgv(['a', 'b', '', '']), ['a', 'b']);
  assert.equal(commandOf({ cmdline: [], comm: 'kworker/0:1' }), '[kworker/0:1]');
  assert.equal(commandOf({ cmdline: ['sleep', '5', ''], comm: 'sleep' }), 'sleep 5');
});

test('user names come from the password database, once per uid', () => {
  const userOf = userResolver();
  assert.equal(userOf(0), 'root');
  assert.equal(userOf(65534), 'nobody');
  assert.equal(userOf(-1), '?');
});
