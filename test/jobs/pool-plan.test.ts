import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PoolSpec, PoolStage } from '../../src/config/pool-spec.ts';
import { buildItems } from '../../src/config/items.ts';
import { PoolPlan, taskKey, type PoolTask, type TaskResult } from '../../src/jobs/pool-plan.ts';

function stage(name: string, needs: string[] = []): PoolStage {
  return { name, needs, run: { kind: 'argv', argv: ['true'] }, cwd: '/', env: {}, timeoutMs: null, retries: 0, backoffMs: 0, backoffMaxMs: null, stopSignal: 'SIGTERM', graceMs: 100 };
}

function spec(items: string[], stages: PoolStage[]): PoolSpec {
  return { name: null, source: null, cwd: '/', gpus: [], perGpu: 1, slots: [], halt: { mode: 'never' }, preflight: 'ignore', minFreeMemBytes: null, graceMs: 100, items: buildItems(items), stages };
}

function end(t: PoolTask, state: TaskResult['state']): TaskResult {
  return { jobId: t.name, state, exitCode: state === 'succeeded' ? 0 : 1, signal: null, reason: 'exited', status: 0, attempts: 1, startedAt: 0, endedAt: 0, logPath: null, gpu: null, slot: 0, leftovers: [] };
}

/** Takes ready tasks like the scheduler does, with `slots` free at once. */
function takeReady(plan: PoolPlan, slots: number): PoolTask[] {
  const out: PoolTask[] = [];
  for (let i = 0; i < slots; i++) {
    const t = plan.nextReady();
    if (!t) break;
    plan.take(t);
    out.push(t);
  }
  return out;
}

describe('PoolPlan', () => {
  const STAGES = [stage('sample'), stage('evaluate', ['sample'])];

  it('counts tasks by state as they change (kept as they go, not recounted): the same as counting the list, at every step', () => {
    const items = ['a', 'b', 'c', 'd', 'e'];
    const plan = new PoolPlan(spec(items, [...STAGES, stage('report', ['evaluate'])]), new Set([taskKey('sample', 5, 'e')]));
    const recount = () => {
      const c = { total: plan.tasks.length, succeeded: 0, failed: 0, skipped: 0, stopped: 0, running: 0, pending: 0, doneBefore: 0 };
      for (const t of plan.tasks) c[t.state === 'done-before' ? 'doneBefore' : t.state]++;
      return c;
    };
    const check = (what: string) => assert.deepEqual(plan.counts(), recount(), what);
    check('at the start, one task done before');
    const [s1, s2, s3] = takeReady(plan, 3);
    check('three running');
    plan.settle(s1!, end(s1!, 'failed'));
    check('a failure skips its item\'s later stages');
    plan.putBack(s2!);
    check('one put back');
    plan.settle(s3!, end(s3!, 'succeeded'));
    check('one succeeded');
    for (let t = plan.nextReady(); t; t = plan.nextReady()) {
      plan.take(t);
      plan.settle(t, end(t, t.name.startsWith('report') ? 'stopped' : 'succeeded'));
      check(`after ${t.name}`);
    }
    const c = plan.counts();
    assert.equal(c.pending + c.running, 0, 'everything ran');
    assert.ok(c.skipped === 2 && c.stopped > 0 && c.doneBefore === 1, JSON.stringify(c));
  });

  it('names tasks stage.N and starts with the first stage of the first items', () => {
    const plan = new PoolPlan(spec(['a', 'b', 'c'], STAGES));
    assert.deepEqual(plan.tasks.map((t) => t.name), ['sample.1', 'evaluate.1', 'sample.2', 'evaluate.2', 'sample.3', 'evaluate.3']);
    assert.deepEqual(takeReady(plan, 2).map((t) => t.name), ['sample.1', 'sample.2']);
  });

  it('pipelines: an item whose sample succeeded goes before later items\' samples', () => {
    const plan = new PoolPlan(spec(['a', 'b', 'c'], STAGES));
    const [s1] = takeReady(plan, 2);
    plan.settle(s1!, end(s1!, 'succeeded'));
    assert.equal(plan.nextReady()!.name, 'evaluate.1');
  });

  it('a failure skips the stages of that item that need it, transitively, and nothing else', () => {
    const plan = new PoolPlan(spec(['a', 'b'], [stage('sample'), stage('evaluate', ['sample']), stage('report', ['evaluate']), stage('other')]));
    const s1 = plan.nextReady()!;
    plan.take(s1);
    const skipped = plan.settle(s1, end(s1, 'failed'));
    assert.deepEqual(skipped.map((t) => t.name), ['evaluate.1', 'report.1']);
    assert.equal(plan.tasks.find((t) => t.name === 'other.1')!.state, 'pending');
    assert.equal(plan.nextReady()!.name, 'other.1');
  });

  it('a stopped task (Ctrl-C) skips nothing; a task put back is offered again', () => {
    const plan = new PoolPlan(spec(['a'], STAGES));
    const s1 = plan.nextReady()!;
    plan.take(s1);
    plan.putBack(s1);
    assert.equal(plan.nextReady(), s1);
    plan.take(s1);
    assert.deepEqual(plan.settle(s1, end(s1, 'stopped')), []);
    assert.equal(plan.tasks[1]!.state, 'pending');
  });

  it('resume: tasks done before are not offered, and satisfy the needs of later stages', () => {
    const plan = new PoolPlan(spec(['a', 'b'], STAGES), new Set([taskKey('sample', 1, 'a'), taskKey('sample', 2, 'b'), taskKey('evaluate', 2, 'b')]));
    assert.deepEqual(takeReady(plan, 5).map((t) => t.name), ['evaluate.1']);
    assert.deepEqual({ ...plan.counts() }, { total: 4, succeeded: 0, failed: 0, skipped: 0, stopped: 0, running: 1, pending: 0, doneBefore: 3 });
  });

  it('resume: a repeated item is known by its number, so the copy that did not succeed runs again', () => {
    const plan = new PoolPlan(spec(['a', 'a', 'b'], STAGES), new Set([taskKey('sample', 1, 'a'), taskKey('evaluate', 1, 'a'), taskKey('sample', 3, 'a')]));
    assert.deepEqual(takeReady(plan, 5).map((t) => t.name), ['sample.2', 'sample.3']);
    assert.equal(plan.counts().doneBefore, 2, "item 3 is 'b': a done 'a' under its number does not count");
  });
});
