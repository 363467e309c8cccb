import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { createTestUser, startAs, writePolicy } from './guard-kit.ts';

// Two terminals of the test user: one writable by group (mesg y), one not (mesg n). After "check" on
// stdin it prints, as JSON, what arrived on each (read without waiting: the guard wrote before it exited).
const PTYS = `
import os, pty, sys, json, select
uid = int(sys.argv[1])
names, masters = [], []
for mode in (0o620, 0o600):
    m, s = pty.openpty()
    os.fchown(s, uid, -1); os.fchmod(s, mode)
    names.append(os.ttyname(s)); masters.append(m)
print(json.dumps(names), flush=True)
sys.stdin.readline()
got = []
for m in masters:
    data = b''
    while select.select([m], [], [], 0)[0]:
        chunk = os.read(m, 65536)
        if not chunk: break
        data += chunk
    got.append(data.decode('utf8', 'replace'))
print(json.dumps(got), flush=True)
`;

test('terminal: the notice is written to the owner\'s mesg-writable terminal only', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const tracker = new Tracker();
  const home = tempHome();
  const py = spawn('python3', ['-c', PTYS, String(user.uid)], { stdio: ['pipe', 'pipe', 'inherit'] });
  tracker.pid(py.pid);
  const lines = createInterface({ input: py.stdout! });
  const next = (() => {
    const queue: string[] = [];
    lines.on('line', (l) => queue.push(l));
    return () => waitFor(() => queue.shift(), 'a line from the pty helper');
  })();
  try {
    const [open, closed] = JSON.parse(await next()) as [string, string];
    const stray = await startAs(user, tracker, { stopped: true });
    const policy = writePolicy(home, `users: [${user.name}]\nmin_age: 0s\nrules:\n  - reason: stopped\n    notify: 0s\nnotify:\n  terminal: true\n`);
    const res = await runCorral(['guard', 'run', '--once', '--policy', policy], { home });
    assert.equal(res.code, 0, res.stderr);
    py.stdin!.write('check\n');
    const [onOpen, onClosed] = JSON.parse(await next()) as [string, string];
    assert.match(onOpen, /Message from corral guard/, `nothing on ${open}`);
    assert.match(onOpen, new RegExp(`stray process ${stray.pid} of ${user.name}`));
    assert.equal(onClosed, '', `${closed} has mesg n: nothing is written there`);
  } finally {
    py.kill('SIGKILL');
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), [], 'nothing the test started is left');
    user.remove();
  }
});
