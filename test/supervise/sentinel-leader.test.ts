import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { after, test } from 'node:test';
import { isAlive } from '../../src/proc/identity.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the test started is left'));

/*
 * The sentinel's own copy of the scope learns an attempt's leader when the attempt starts, not at the
 * next registry pass. Here no pass ever comes (CORRAL_POLL_MS is an hour), the job has no cgroup
 * (CORRAL_CGROUP=off) and clears its markers (env -i), and the home with the ledger is removed: the
 * leader's session is the only tie the sentinel has.
 */
test("a SIGKILLed corral's sentinel knows the leader from the attempt's start, before any registry pass", async () => {
  const token = t.token('leader');
  const home = tempHome();
  const corral = startCorral(['run', '--grace', '1s', '--', 'env', '-i', 'sh', '-c', 'sleep 302 & sleep 303; :', token], {
    home, env: { CORRAL_TEST_TOKEN: token, CORRAL_POLL_MS: '3600000', CORRAL_CGROUP: 'off' },
  });
  t.pid(corral.child.pid);
  // env -i hides the token from the sleeps: they are found as children of the job's shell (token in argv)
  const procs = await waitFor(() => {
    const shell = findByToken(token).find((p) => p.cmd.startsWith('sh -c sleep'));
    if (!shell) return null;
    const kids = [...takeSnapshot({ cgroup: false, environ: false }).values()].filter((p) => p.ppid === shell.pid && p.comm === 'sleep');
    return kids.length === 2 ? [shell, ...kids.map((k) => ({ pid: k.pid, starttime: k.starttime }))] : null;
  }, 'the job shell and its two sleeps');
  for (const p of procs) t.pid(p.pid);
  rmSync(home, { recursive: true, force: true });
  corral.child.kill('SIGKILL');
  await waitFor(() => procs.every((p) => !isAlive(p)), 'the sentinel to stop the job', 15_000);
  await waitFor(() => /lost its supervisor; stopped [1-9]\d* process/.test(corral.output()), "the sentinel's summary on corral's stderr", 15_000);
  await waitFor(() => findByToken(token).length === 0, 'the sentinel to finish');
});
