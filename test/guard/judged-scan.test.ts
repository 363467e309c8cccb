import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { test } from 'node:test';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { EMPTY_LEDGER } from '../../src/strays/ledger-view.ts';
import { scanStrays } from '../../src/strays/scan.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { createTestUser } from './guard-kit.ts';

// The guard judges only the processes of users its policy covers (scanStrays' judgeUid), reading the
// others in part. The rules still walk the ancestors of judged processes, whoever owns them: here a
// root shell carries a run's marker and starts the test user's process with a cleared environment.
test('a judged scan reads in full the ancestors of judged processes: attribution through a root ancestor holds', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const tracker = new Tracker();
  const run = tracker.token('judged');
  try {
    const shell = spawn('sh', ['-c', `setpriv --reuid=${user.uid} --regid=${user.gid} --clear-groups env -i sleep 300 & wait`, run], {
      env: { ...process.env, CORRAL_RUN_ID: run }, stdio: 'ignore',
    });
    tracker.pid(shell.pid);
    const shellExited = new Promise((resolve) => shell.once('exit', resolve)); // its `wait` returns once the sleep is gone
    const child = await waitFor(() => [...takeSnapshot({ cmdline: false, cgroup: false, environ: false }).values()].find((p) => p.ppid === shell.pid && p.uid === user.uid && p.comm === 'sleep'), 'the test user sleep');
    tracker.pid(child.pid);
    process.kill(child.pid, 'SIGSTOP'); // a stray by the stopped rule
    await waitFor(() => takeSnapshot({ cmdline: false, cgroup: false, environ: false }).get(child.pid)?.state === 'T', 'the sleep to stop');

    const bystander = spawn('sleep', ['300', run], { stdio: 'ignore' }); // root, and no ancestor of the judged process
    tracker.pid(bystander.pid);
    const bystanderExited = new Promise((resolve) => bystander.once('exit', resolve));
    await waitFor(() => takeSnapshot({ cmdline: false, cgroup: false, environ: false }).get(bystander.pid!)?.comm === 'sleep', 'the bystander sleep');
    const scan = await scanStrays({ ledger: EMPTY_LEDGER, gpu: { devices: [], processes: [], probes: [] }, judgeUid: (uid) => uid === user.uid });
    const stray = scan.strays.find((s) => s.pid === child.pid);
    assert.ok(stray, 'the stopped sleep of the judged user is a stray');
    assert.equal(stray.attribution.runId, run, 'attributed through its root parent, whose environment was read');
    assert.equal(stray.attribution.via, 'ancestor');
    assert.equal(stray.parent?.command.includes(run), true, "the parent's command line was read");
    assert.ok(scan.strays.every((s) => s.uid === user.uid), 'no other user is judged');
    const shellInfo = scan.snapshot.get(shell.pid!)!;
    assert.equal(shellInfo.partial, undefined, 'the ancestor was read in full');
    assert.equal(scan.snapshot.get(bystander.pid!)?.partial, true, 'a process of another user, no ancestor of a judged one, was read in part');
    process.kill(child.pid, 'SIGKILL');
    bystander.kill('SIGKILL');
    await Promise.all([shellExited, bystanderExited]);
  } finally {
    assert.deepEqual(await tracker.cleanup(), [], 'nothing the test started may outlive it');
    user.remove();
  }
});
