import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { ticksNow } from '../../src/proc/clock.ts';
import { listPids } from '../../src/proc/snapshot.ts';
import { snapshotForScopesInSlices } from '../../src/supervise/members.ts';
import type { JobScope } from '../../src/supervise/scope.ts';
import { Tracker } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

const scope = (): JobScope => ({ runId: 'R', jobId: 'R.main', sinceTicks: ticksNow() - 100 });

test('a snapshot in slices lets the event loop turn between slices (a stop signal is handled meanwhile) and sees a young process', async () => {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.pid(child.pid);
  assert.ok(listPids().length > 1, 'more processes than one slice');
  let turns = 0;
  let done = false;
  const turn = () => {
    turns++;
    if (!done) setImmediate(turn);
  };
  setImmediate(turn);
  const snap = await snapshotForScopesInSlices([scope()], () => false, 1);
  done = true;
  assert.ok(turns > 0, 'the event loop turned while the snapshot was taken');
  assert.equal(snap?.get(child.pid!)?.ppid, process.pid, 'the young process is in it');
  child.kill('SIGKILL');
});

test('a snapshot in slices that a newer pass made stale is abandoned between slices', async () => {
  let asked = 0;
  const snap = await snapshotForScopesInSlices([scope()], () => ++asked > 0, 1);
  assert.equal(snap, null);
  assert.equal(asked, 1, 'abandoned at the first slice boundary');
});
