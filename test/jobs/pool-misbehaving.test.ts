import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { it } from 'node:test';
import { startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { peakPerGpu, readLedger, readStarts, stateDir, writeTwoStagePool } from './pool-harness.ts';

/*
 * The stopped-pool incident as a corral pool: 12 checkpoints x (sample -> evaluate) over 2 fake GPUs x
 * 2 slots, with tasks that fail, time out, hang, ignore SIGTERM, SIGSTOP themselves, leave stopped
 * children or orphan multiprocessing.Pool workers. Each item's name says how it misbehaves (task.py).
 */
interface Expect {
  state: 'succeeded' | 'failed' | 'skipped';
  reason?: 'exited' | 'timeout';
  exitCode?: number;
  attempts?: number;
}
const OK: Expect = { state: 'succeeded', reason: 'exited', exitCode: 0, attempts: 1 };
const SKIPPED: Expect = { state: 'skipped' };
const TIMEOUT_SAMPLE: Expect = { state: 'failed', reason: 'timeout', attempts: 2 }; // retries: 1
const TIMEOUT_EVAL: Expect = { state: 'failed', reason: 'timeout', attempts: 1 }; // retries: 0

const EXPECT: Record<string, { sample: Expect; evaluate: Expect }> = {
  'ok-a': { sample: OK, evaluate: OK },
  'ok-b': { sample: OK, evaluate: OK },
  'fail-sample': { sample: { state: 'failed', reason: 'exited', exitCode: 3, attempts: 2 }, evaluate: SKIPPED },
  'fail-eval': { sample: OK, evaluate: { state: 'failed', reason: 'exited', exitCode: 3, attempts: 1 } },
  'flaky-sample': { sample: { ...OK, attempts: 2 }, evaluate: OK },
  'timeout-sample': { sample: TIMEOUT_SAMPLE, evaluate: SKIPPED },
  'stubborn-eval': { sample: OK, evaluate: TIMEOUT_EVAL },
  'selfstop-sample': { sample: TIMEOUT_SAMPLE, evaluate: SKIPPED },
  'stopchild-sample': { sample: OK, evaluate: OK },
  'orphans-sample': { sample: OK, evaluate: OK },
  'poolhang-eval': { sample: OK, evaluate: TIMEOUT_EVAL },
  'hang-eval': { sample: OK, evaluate: TIMEOUT_EVAL },
};
const ITEMS = Object.keys(EXPECT);

interface TaskJson {
  name: string;
  stage: 'sample' | 'evaluate';
  item: string;
  state: string;
  reason: string | null;
  exitCode: number | null;
  attempts: number;
  gpu: number | null;
  log: string | null;
  job: string | null;
}

it('12 items x (sample -> evaluate) over 4 GPU slots: results match the fixtures, retries as configured, nothing survives', async () => {
  const t = new Tracker();
  const token = t.token('pool');
  const home = tempHome();
  const state = stateDir();
  // 3 s: a Python task that should succeed must not time out on a loaded 2-core machine (1 s did, once)
  const file = writeTwoStagePool(state, ITEMS, {
    sample: '    timeout: 3s\n    retries: 1\n    backoff: 150ms',
    evaluate: '    timeout: 3s',
  });
  const corral = startCorral(['pool', file, '--json'], { env: { CORRAL_TEST_TOKEN: token }, home });
  t.pid(corral.child.pid);
  try {
    const res = await corral.done;
    const ledger = readLedger(home);
    const run = ledger.runs[0]!;
    const survivors = t.alive().filter((p) => p.pid !== run.sentinel_pid);
    assert.deepEqual(survivors, [], 'no task process (stopped children, Pool workers, SIGTERM-ignorers) outlives corral');
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as { status: string; counts: Record<string, number>; tasks: TaskJson[] };
    assert.equal(out.status, 'failed');
    assert.deepEqual({ ...out.counts }, { total: 24, succeeded: 14, failed: 7, skipped: 3, stopped: 0, notStarted: 0, doneBefore: 0 });

    const starts = readStarts(state);
    for (const task of out.tasks) {
      const want = EXPECT[task.item]![task.stage];
      const label = `${task.stage} of ${task.item}`;
      assert.equal(task.state, want.state, label);
      if (want.reason) assert.equal(task.reason, want.reason, label);
      if (want.exitCode !== undefined) assert.equal(task.exitCode, want.exitCode, label);
      const job = ledger.jobs.find((j) => j.item === task.item && j.stage === task.stage)!;
      assert.ok(job, `${label} is in the ledger`);
      assert.equal(job.state, want.state, `${label}: ledger state`);
      if (want.state === 'skipped') {
        assert.equal(starts.filter((s) => s.item === task.item && s.stage === task.stage).length, 0, `${label} never started`);
        continue;
      }
      // retries: the ledger, the JSON and the task's own start log agree
      const attempts = ledger.attempts.filter((a) => a.job_id === job.id);
      assert.equal(task.attempts, want.attempts, `${label}: attempts`);
      assert.equal(attempts.length, want.attempts, `${label}: attempts in the ledger`);
      assert.equal(job.attempts, want.attempts, `${label}: jobs.attempts`);
      assert.equal(starts.filter((s) => s.item === task.item && s.stage === task.stage).length, want.attempts, `${label}: starts seen by the task`);
      // the log of every attempt is in the task's own file
      assert.ok(task.log && existsSync(task.log), `${label}: log file`);
      assert.equal(job.log_path, task.log);
      const log = readFileSync(task.log, 'utf8');
      assert.match(log, new RegExp(`${task.stage} ${task.item} attempt 1`));
      if (want.attempts! > 1) assert.match(log, /--- corral: attempt 2 ---/);
    }
    assert.match(readFileSync(out.tasks.find((x) => x.item === 'fail-sample')!.log!, 'utf8'), /failing on purpose/);

    // the backoff: a retry waited at least 150ms after its first attempt ended
    const flaky = ledger.jobs.find((j) => j.item === 'flaky-sample' && j.stage === 'sample')!;
    const [a1, a2] = ledger.attempts.filter((a) => a.job_id === flaky.id);
    assert.ok(a2!.started_at - a1!.ended_at! >= 150, `backoff ${a2!.started_at - a1!.ended_at!}ms`);
    // a task that ignored SIGTERM was SIGKILLed at the end of the grace
    const stubborn = ledger.jobs.find((j) => j.item === 'stubborn-eval' && j.stage === 'evaluate')!;
    assert.equal(ledger.attempts.find((a) => a.job_id === stubborn.id)!.signal, 'SIGKILL');

    // GPUs: each task saw its slot's GPU; never more than 2 tasks (per_gpu) on a GPU, results committed first
    for (const s of starts) {
      assert.ok(s.gpu === '0' || s.gpu === '1', `CORRAL_GPU ${s.gpu}`);
      assert.equal(s.cuda, s.gpu);
    }
    for (const [gpu, n] of peakPerGpu(ledger.jobs)) assert.ok(n <= 2, `GPU ${gpu} ran ${n} tasks at once`);
    assert.deepEqual([...peakPerGpu(ledger.jobs).keys()].sort(), ['0', '1']);

    // stages: evaluate of X after sample of X succeeded; pipelined, not a barrier
    const sampleEnds: number[] = [];
    for (const item of ITEMS) {
      const s = ledger.jobs.find((j) => j.item === item && j.stage === 'sample')!;
      const e = ledger.jobs.find((j) => j.item === item && j.stage === 'evaluate')!;
      sampleEnds.push(s.ended_at!);
      if (e.started_at !== null && e.state !== 'skipped') assert.ok(e.started_at >= s.ended_at!, `evaluate of ${item} waited for its sample`);
    }
    const firstEval = Math.min(...ledger.jobs.filter((j) => j.stage === 'evaluate' && j.state !== 'skipped').map((j) => j.started_at!));
    assert.ok(firstEval < Math.max(...sampleEnds), 'an evaluate started while samples were still running');
    assert.equal(run.kind, 'pool');
    assert.equal(run.status, 'failed');
  } finally {
    await waitFor(() => t.alive().length === 0, 'the sentinel to exit', 5000).catch(() => {});
    assert.deepEqual(await t.cleanup(), [], 'nothing was left to force-kill');
  }
});
