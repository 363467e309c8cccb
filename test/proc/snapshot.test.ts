import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { parseEnviron } from '../../src/proc/markers.ts';
import { parseCgroupV2, readProc, takeSnapshot } from '../../src/proc/snapshot.ts';
import { ancestors, descendants } from '../../src/proc/tree.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

test('parseEnviron picks the markers and the sudo facts out of a NUL-separated block', () => {
  const f = parseEnviron('PATH=/bin\0CORRAL_RUN_ID=r1\0SUDO_USER=alice\0CORRAL_JOB_ID=r1.main\0SUDO_UID=1000\0');
  assert.deepEqual(f, { readable: true, runId: 'r1', jobId: 'r1.main', sudoUser: 'alice', sudoUid: 1000 });
  assert.deepEqual(parseEnviron('CORRAL_RUN_ID=first\0X=1'), { readable: true, runId: 'first' });
  assert.deepEqual(parseEnviron('XCORRAL_RUN_ID=no\0'), { readable: true });
});

test('parseCgroupV2 takes the unified line of a hybrid /proc/PID/cgroup', () => {
  assert.equal(parseCgroupV2('4:memory:/x\n1:cpu:/\n0::/user.slice/a.scope\n'), '/user.slice/a.scope');
  assert.equal(parseCgroupV2('4:memory:/x\n'), undefined);
});

test('a snapshot sees a real child with its markers, command line, tree and ancestors', async () => {
  const token = t.token('snap');
  const child = spawn('sh', ['-c', 'sleep 60 & wait', token], { env: { ...process.env, CORRAL_RUN_ID: 'run-x', CORRAL_JOB_ID: 'run-x.main' }, stdio: 'ignore' });
  t.pid(child.pid);
  const grandchild = await waitFor(() => [...takeSnapshot().values()].find((p) => p.ppid === child.pid), 'the sleep grandchild');
  t.pid(grandchild.pid);
  const snap = takeSnapshot();
  const me = snap.get(child.pid!)!;
  assert.equal(me.env?.runId, 'run-x');
  assert.equal(me.env?.jobId, 'run-x.main');
  assert.deepEqual(me.cmdline, ['sh', '-c', 'sleep 60 & wait', token]);
  assert.equal(me.uid, process.getuid!());
  assert.equal(me.kernelThread, false);
  assert.deepEqual(descendants(snap, [child.pid!]), [grandchild.pid]);
  assert.deepEqual(ancestors(snap, grandchild.pid).slice(0, 2), [child.pid, process.pid]);
  assert.equal(snap.get(grandchild.pid)!.env?.runId, 'run-x', 'markers are inherited');
  process.kill(grandchild.pid, 'SIGKILL');
  child.kill('SIGKILL');
  await waitFor(() => !takeSnapshot().has(grandchild.pid), 'the sleep to die');
});

test('kernel threads are marked and have no environment read', () => {
  const kthreadd = readProc(2);
  if (!kthreadd) return; // inside a pid namespace there is no pid 2
  assert.equal(kthreadd.kernelThread, true);
  assert.equal(kthreadd.env, undefined);
});

test('the filter skips old processes before anything but stat is read', () => {
  const snap = takeSnapshot({ filter: (st) => st.pid === process.pid });
  assert.deepEqual([...snap.keys()], [process.pid]);
});
