import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readLedger, realPython, stateDir, TASK } from './pool-harness.ts';

/* --halt: keep going by default; soon-after:N starts nothing new; now-after:N also stops what runs. */
interface Out {
  exitCode: number;
  stopReason: string;
  counts: Record<string, number>;
  tasks: { item: string; state: string; reason: string | null }[];
}

async function runHalt(halt: string | null, items: string[]): Promise<{ out: Out; code: number | null }> {
  const t = new Tracker();
  const token = t.token('halt');
  const home = tempHome();
  const state = stateDir();
  const flags = ['pool', '--jobs', '2', '--grace', '400ms', '--json', ...(halt ? ['--halt', halt] : []), '--', realPython(), TASK, 'task', '{}', state, ':::', ...items];
  try {
    const res = await runCorral(flags, { env: { CORRAL_TEST_TOKEN: token }, home });
    const run = readLedger(home).runs[0]!;
    assert.deepEqual(t.alive().filter((p) => p.pid !== run.sentinel_pid), [], 'no task outlives corral');
    return { out: JSON.parse(res.stdout) as Out, code: res.code };
  } finally {
    await waitFor(() => t.alive().length === 0, 'the sentinel to exit', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
}

const stateOf = (out: Out, item: string) => out.tasks.find((x) => x.item === item)!;

describe('--halt', { concurrency: 3 }, () => {
  it('by default a failure does not stop the pool', async () => {
    const { out, code } = await runHalt(null, ['fail-task', 'ok-1', 'ok-2', 'ok-3']);
    assert.equal(code, 1);
    assert.equal(out.stopReason, 'completed');
    assert.equal(out.counts.succeeded, 3);
    assert.equal(out.counts.failed, 1);
  });

  it('soon-after:1 lets the running task finish and starts nothing new', async () => {
    const { out, code } = await runHalt('soon-after:1', ['slow-1', 'fail-task', 'ok-1', 'ok-2', 'ok-3', 'ok-4']);
    assert.equal(code, 1);
    assert.equal(out.stopReason, 'halted');
    assert.equal(stateOf(out, 'fail-task').state, 'failed');
    assert.equal(stateOf(out, 'slow-1').state, 'succeeded', 'the task running at the halt finished');
    assert.ok(out.counts.notStarted! >= 3, `${out.counts.notStarted} not started`);
  });

  it('now-after:1 also stops the running tasks', async () => {
    const { out, code } = await runHalt('now-after:1', ['timeout-task', 'fail-task', 'ok-1', 'ok-2']);
    assert.equal(code, 1);
    assert.equal(out.stopReason, 'halted');
    assert.deepEqual({ ...stateOf(out, 'timeout-task') }, { ...stateOf(out, 'timeout-task'), state: 'stopped', reason: 'halted' });
    assert.equal(out.counts.notStarted, 2);
  });
});
