import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { attemptsOfRun } from '../../src/ledger/jobs.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

const NOBODY = 65534;

/*
 * An unprivileged user can read a root run's id from /proc/PID/cgroup and put CORRAL_RUN_ID and
 * CORRAL_JOB_ID in its own environment (issue 8.9). A marker alone on another uid's process is no
 * membership: root's ps does not list it and root's teardown leaves it alone.
 */
for (const mode of ['cgroup', 'fallback'] as const) {
  test(`${mode}: a forged marker on another user's process neither shows in root's ps nor is killed by root's teardown`, async (ctx) => {
    if (process.getuid?.() !== 0) return skipOrFail(ctx, 'needs root to run a job as root and a process as nobody');
    const home = tempHome();
    const token = t.token('forged');
    const sup = startCorral(['run', '--grace', '1s', '--', 'sleep', '100000'], { home, env: { CORRAL_POLL_MS: '50', CORRAL_TEST_TOKEN: token, ...(mode === 'fallback' ? { CORRAL_CGROUP: 'off' } : {}) } });
    t.pid(sup.child.pid);
    const db = openLedger(join(home, 'ledger.sqlite'));
    const run = await waitFor(() => listRuns(db)[0]?.sentinel_pid ? listRuns(db)[0] : undefined, 'the run');
    const attempt = await waitFor(() => attemptsOfRun(db, run.id)[0], 'the attempt');
    t.pid(attempt.pid!);
    const job = readIdentity(attempt.pid!)!;
    const forger = spawn('sleep', ['100000'], {
      uid: NOBODY, gid: NOBODY, stdio: 'ignore',
      env: { PATH: process.env.PATH, CORRAL_RUN_ID: run.id, CORRAL_JOB_ID: `${run.id}.main`, CORRAL_TEST_TOKEN: token },
    });
    t.pid(forger.pid);
    const forged = await waitFor(() => readIdentity(forger.pid!), 'the forger');
    // several registry passes see it (poll 50 ms): none may take it in
    const ps = await waitFor(async () => {
      const r = await runCorral(['ps', '--json'], { home });
      return new RegExp(`"pid":\\s*${job.pid}\\b`).test(r.stdout) ? r.stdout : null;
    }, "the job in root's ps");
    assert.doesNotMatch(ps, new RegExp(`"pid":\\s*${forged.pid}\\b`), "the forger is not in root's ps");
    const exited = new Promise((r) => sup.child.once('exit', r));
    sup.child.kill('SIGTERM');
    await exited;
    assert.ok(!isAlive(job), "the job's own process is gone");
    assert.ok(isAlive(forged), "the forger's process was left alone");
    assert.match(sup.output(), new RegExp(`left alone 1 process\\(es\\) of another user[^\\n]*pid ${forged.pid} \\(uid ${NOBODY}\\)`), 'and reported');
    const rows = db.prepare('SELECT pid FROM registry WHERE run_id = ?').all(run.id) as { pid: number }[];
    assert.ok(!rows.some((r) => r.pid === forged.pid), 'the registry never took it in');
    db.close();
    forger.kill('SIGKILL');
    await waitFor(() => !isAlive(forged), 'the forger to die');
  });
}
