import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { signalIdentity } from '../../src/proc/signal.ts';
import { Tracker } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

test('a stale identity (same pid, other starttime) is never signalled', async () => {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.pid(child.pid);
  const id = readIdentity(child.pid!)!;
  assert.equal(signalIdentity({ pid: id.pid, starttime: id.starttime - 1 }, 'SIGKILL'), 'gone');
  assert.ok(isAlive(id), 'the process was not touched');
  assert.equal(signalIdentity(id, 'SIGTERM'), 'sent');
  const [, sig] = await once(child, 'exit');
  assert.equal(sig, 'SIGTERM');
  assert.equal(signalIdentity(id, 'SIGTERM'), 'gone');
});

test('pid 1 and pid 0 are refused outright', () => {
  assert.throws(() => signalIdentity({ pid: 1, starttime: 1 }, 'SIGTERM'), /refusing/);
  assert.throws(() => signalIdentity({ pid: 0, starttime: 0 }, 'SIGTERM'), /refusing/);
});

test('signalGroupOf signals the whole group of a session leader at once, and refuses anything else', async (ctx) => {
  const { signalGroupOf } = await import('../../src/proc/signal.ts');
  const { takeSnapshot } = await import('../../src/proc/snapshot.ts');
  const { waitFor } = await import('../helpers/procs.ts');
  const leaderProc = spawn('sh', ['-c', 'sleep 60 & sleep 60 & wait'], { detached: true, stdio: 'ignore' });
  t.pid(leaderProc.pid);
  const kids = await waitFor(() => {
    const k = [...takeSnapshot().values()].filter((p) => p.ppid === leaderProc.pid);
    return k.length === 2 ? k : null;
  }, 'two children in the leader group');
  for (const k of kids) t.pid(k.pid);
  const leader = readIdentity(leaderProc.pid!)!;
  assert.equal(signalGroupOf({ pid: leader.pid, starttime: leader.starttime + 1 }, 'SIGTERM'), null, 'a stale identity');
  assert.equal(signalGroupOf(readIdentity(kids[0]!.pid)!, 'SIGTERM'), null, 'not the leader of its session and group');
  const plain = spawn('sleep', ['60'], { stdio: 'ignore' });
  t.pid(plain.pid);
  assert.equal(signalGroupOf(readIdentity(plain.pid!)!, 'SIGTERM'), null, "a process in the test runner's own group");
  plain.kill('SIGKILL');
  const pgid = signalGroupOf(leader, 'SIGTERM', 'SIGCONT');
  if (pgid === null) return skipOrFail(ctx, 'kernel without PIDFD_SIGNAL_PROCESS_GROUP (Linux < 6.9)');
  assert.equal(pgid, leader.pid);
  await waitFor(() => [leader, ...kids].every((k) => !isAlive(k) || takeSnapshot().get(k.pid)?.state === 'Z'), 'the whole group to die');
});
