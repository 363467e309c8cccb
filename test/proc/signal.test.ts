import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { after, test } from 'node:test';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { signalIdentity } from '../../src/proc/signal.ts';
import { Tracker } from '../helpers/procs.ts';

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
