import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readLedger, slowPool, readStarts, stateDir, writeTwoStagePool } from './pool-harness.ts';

/*
 * corral is SIGKILLed half-way through a pool: its sentinel must tear every task down, and
 * `corral pool --resume last` must run exactly the tasks that had not succeeded, no more, no less.
 */
const { items: ITEMS, all: ALL } = slowPool(12);

it('SIGKILL of corral half-way: nothing survives, and --resume last runs exactly what had not succeeded', async () => {
  const t = new Tracker();
  const token = t.token('resume');
  const home = tempHome();
  const state = stateDir();
  const file = writeTwoStagePool(state, ITEMS);
  const env = { CORRAL_TEST_TOKEN: token };
  const first = startCorral(['pool', file], { env, home });
  t.pid(first.child.pid);
  try {
    await waitFor(() => readLedger(home).jobs.filter((j) => j.state === 'succeeded').length >= 5, 'five tasks to succeed', 20_000, 50);
    process.kill(first.child.pid!, 'SIGKILL');
    await first.done;
    const lost = await waitFor(() => readLedger(home).runs.find((r) => r.status === 'lost'), 'the sentinel to record supervisor-lost', 20_000, 50);
    await waitFor(() => t.alive().length === 0, 'every task of the killed run to be gone (sentinel teardown)', 10_000);
    assert.equal(lost.stop_reason, 'supervisor-lost');

    const before = readLedger(home);
    const done1 = new Set(before.jobs.filter((j) => j.state === 'succeeded').map((j) => `${j.stage} ${j.item}`));
    const cut = before.jobs.filter((j) => j.state === 'lost');
    assert.ok(done1.size >= 5 && done1.size < ALL.length, `${done1.size} succeeded before the kill`);
    assert.ok(cut.length > 0, 'some tasks were running when corral died');
    for (const j of cut) assert.equal(j.stop_reason, 'supervisor-lost');

    const second = await runCorral(['pool', '--resume', 'last', '--json'], { env, home });
    assert.equal(second.code, 0, second.stderr);
    const after = readLedger(home);
    const run2 = after.runs.find((r) => r.id !== lost.id)!;
    assert.equal(JSON.parse(run2.config!).resumeOf, lost.id, 'the new run records the run it resumed');
    const ran2 = after.jobs.filter((j) => j.run_id === run2.id).map((j) => `${j.stage} ${j.item}`);
    assert.deepEqual([...ran2].sort(), ALL.filter((k) => !done1.has(k)).sort(), 'exactly the tasks that had not succeeded');
    assert.ok(after.jobs.filter((j) => j.run_id === run2.id).every((j) => j.state === 'succeeded'));
    const out = JSON.parse(second.stdout) as { counts: Record<string, number>; resumedFrom: string };
    assert.equal(out.resumedFrom, lost.id);
    assert.equal(out.counts.doneBefore, done1.size);
    assert.equal(out.counts.succeeded, ALL.length - done1.size);
    // from the tasks' side: a task that had succeeded never started again
    for (const key of done1) {
      const [stage, item] = key.split(' ');
      assert.equal(readFileSync(join(state, `${item}.${stage}.attempts`), 'utf8'), '1', `${key} ran once`);
    }
    assert.equal(new Set(readStarts(state).map((s) => `${s.stage} ${s.item}`)).size, ALL.length);

    // a chain of resumes adds up: nothing is left, so the next resume runs nothing and succeeds
    const third = await runCorral(['pool', file, '--resume', 'last', '--json'], { env, home });
    assert.equal(third.code, 0, third.stderr);
    assert.equal((JSON.parse(third.stdout) as { counts: Record<string, number> }).counts.doneBefore, ALL.length);
  } finally {
    await waitFor(() => t.alive().length === 0, 'the sentinels to exit', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
});
