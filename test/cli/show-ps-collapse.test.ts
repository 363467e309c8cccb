import assert from 'node:assert/strict';
import { it } from 'node:test';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readLedger } from '../jobs/pool-harness.ts';

/*
 * Issue 10 item 5: `corral ps` shows a live pool's finished tasks as one line (with the counts and the
 * `corral show` that lists them), and only the running tasks in full.
 */
it('corral ps: a live pool with four finished tasks and one running shows one line for the four', async () => {
  const t = new Tracker();
  const home = tempHome();
  const pool = startCorral(['pool', '-q', '--jobs', '2', '--', 'case {} in slow) sleep 60;; bad) exit 4;; esac', ':::', 'a', 'b', 'bad', 'c', 'slow'], { home, env: { CORRAL_TEST_TOKEN: t.token('ps-collapse') } });
  t.pid(pool.child.pid);
  try {
    await waitFor(() => readLedger(home).jobs.filter((j) => j.state !== 'running').length === 4 && readLedger(home).jobs.length === 5, 'four tasks to finish, the slow one to run', 20_000, 50);
    const r = await runCorral(['ps'], { home });
    assert.equal(r.code, 0, r.stderr);
    const runId = readLedger(home).runs[0]!.id;
    assert.match(r.stdout, new RegExp(`^  4 finished tasks: 3 succeeded, 1 failed \\(corral show ${runId}\\)$`, 'm'));
    assert.match(r.stdout, /^ {2}task\.5 \[task\] running$/m);
    for (const n of [1, 2, 3, 4]) assert.doesNotMatch(r.stdout, new RegExp(`task\\.${n} \\[task\\]`));
    const json = JSON.parse((await runCorral(['ps', '--json'], { home })).stdout);
    assert.equal(json[0].jobs.length, 5, '--json keeps every task');
  } finally {
    pool.child.kill('SIGTERM');
    await pool.done;
    await waitFor(() => t.alive().length === 0, 'the pool to be gone', 10_000).catch(() => {});
    assert.deepEqual(await t.cleanup(), []);
  }
});
