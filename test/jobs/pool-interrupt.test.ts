import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readLedger, slowPool, stateDir, writeTwoStagePool } from './pool-harness.ts';

/*
 * Ctrl-C: the first one stops starting tasks and tears the running ones down gracefully, and the run
 * is 'interrupted' and resumable; a second one kills at once instead of waiting out the grace.
 */
const { items: ITEMS, all: ALL } = slowPool(8);

it('first SIGINT: running tasks stopped gracefully, run interrupted (130), --resume runs the rest', async () => {
  const t = new Tracker();
  const token = t.token('int1');
  const home = tempHome();
  const state = stateDir();
  const env = { CORRAL_TEST_TOKEN: token };
  const first = startCorral(['pool', writeTwoStagePool(state, ITEMS)], { env, home });
  t.pid(first.child.pid);
  try {
    await waitFor(() => {
      const jobs = readLedger(home).jobs;
      return jobs.filter((j) => j.state === 'succeeded').length >= 3 && jobs.some((j) => j.state === 'running');
    }, 'three tasks done and one running', 20_000, 20);
    first.child.kill('SIGINT');
    const res = await first.done;
    assert.equal(res.code, 130, res.stderr);
    const ledger = readLedger(home);
    const run = ledger.runs[0]!;
    assert.deepEqual(t.alive().filter((p) => p.pid !== run.sentinel_pid), [], 'no task outlives corral');
    assert.equal(run.status, 'interrupted');
    assert.equal(run.stop_reason, 'signal');
    const stopped = ledger.jobs.filter((j) => j.state === 'stopped');
    assert.ok(stopped.length >= 1, 'the running tasks were stopped');
    for (const j of stopped) assert.equal(j.stop_reason, 'signal');
    assert.ok(ledger.jobs.every((j) => j.state !== 'running' && j.state !== 'lost'));
    assert.match(res.stderr, /received SIGINT/);
    assert.match(res.stderr, /corral pool --resume/);

    const done1 = new Set(ledger.jobs.filter((j) => j.state === 'succeeded').map((j) => `${j.stage} ${j.item}`));
    const second = await runCorral(['pool', '--resume', run.id], { env, home });
    assert.equal(second.code, 0, second.stderr);
    const run2 = readLedger(home).jobs.filter((j) => j.run_id !== run.id);
    assert.deepEqual(run2.map((j) => `${j.stage} ${j.item}`).sort(), ALL.filter((k) => !done1.has(k)).sort());
  } finally {
    await waitFor(() => t.alive().length === 0, 'the sentinels to exit', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
});

it('second SIGINT: tasks that ignore SIGTERM are killed at once, not after the 20s grace', async () => {
  const t = new Tracker();
  const token = t.token('int2');
  const home = tempHome();
  const state = stateDir();
  const names = [1, 2, 3, 4].map((i) => `stubborn-sample${i}`);
  const corral = startCorral(['pool', writeTwoStagePool(state, names, { grace: '20s' })], { env: { CORRAL_TEST_TOKEN: token }, home });
  t.pid(corral.child.pid);
  try {
    await waitFor(() => names.every((n) => existsSync(join(state, `${n}.sample.ignoring`))), 'four tasks to ignore SIGTERM', 20_000);
    const sent = Date.now();
    corral.child.kill('SIGINT');
    await waitFor(() => /received SIGINT/.test(corral.output()), 'corral to start the graceful stop', 10_000);
    corral.child.kill('SIGINT');
    const res = await corral.done;
    const took = Date.now() - sent;
    assert.equal(res.code, 130, res.stderr);
    assert.ok(took < 8000, `corral ended ${took}ms after the first SIGINT (grace 20s)`);
    assert.match(res.stderr, /second signal: killing everything now/);
    const ledger = readLedger(home);
    assert.deepEqual(t.alive().filter((p) => p.pid !== ledger.runs[0]!.sentinel_pid), [], 'no task outlives corral');
    assert.equal(ledger.runs[0]!.status, 'interrupted');
  } finally {
    await waitFor(() => t.alive().length === 0, 'the sentinel to exit', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
});
