import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildItems } from '../../src/config/items.ts';
import type { PoolSlot, PoolSpec } from '../../src/config/pool-spec.ts';
import { PoolPlan, type PoolTask, type TaskResult } from '../../src/jobs/pool-plan.ts';
import type { PoolResult } from '../../src/jobs/pool-run.ts';
import { poolResultToJson } from '../../src/jobs/pool-summary.ts';
import { renderPoolSummary } from '../../src/ui/pool-summary.ts';
import { createProgress } from '../../src/ui/pool-display.ts';
import { displayWidth } from '../../src/ui/width.ts';

/* The display, against a stream that records what it was sent (a terminal, or not). */
function fakeStream(isTTY: boolean): NodeJS.WriteStream & { text: () => string; raw: () => string } {
  let buf = '';
  // colours are dropped for the assertions; the cursor movements of the live block are kept
  const text = () => buf.replace(/\x1b\[[0-9;]*m/g, '');
  return { isTTY, columns: 100, write: (s: string) => ((buf += s), true), text, raw: () => buf } as unknown as NodeJS.WriteStream & { text: () => string; raw: () => string };
}

const SLOTS: PoolSlot[] = [{ index: 0, gpu: 0 }, { index: 1, gpu: 1 }, { index: 2, gpu: 0 }, { index: 3, gpu: 1 }];

function setup(): { plan: PoolPlan; spec: PoolSpec } {
  const stage = { name: 'sample', needs: [], run: { kind: 'argv' as const, argv: ['true'] }, cwd: '/', env: {}, timeoutMs: null, retries: 1, backoffMs: 0, backoffMaxMs: null, stopSignal: 'SIGTERM' as const, graceMs: 1 };
  const spec: PoolSpec = { name: null, source: null, cwd: '/', gpus: [0, 1], perGpu: 2, slots: SLOTS, halt: { mode: 'never' }, preflight: 'ignore', minFreeMemBytes: null, graceMs: 1, items: buildItems(['a.pt', 'b.pt', 'c.pt']), stages: [stage, { ...stage, name: 'evaluate', needs: ['sample'] }] };
  return { plan: new PoolPlan(spec), spec };
}

function finish(plan: PoolPlan, t: PoolTask, slot: PoolSlot, state: TaskResult['state'], extra: Partial<TaskResult> = {}): PoolTask[] {
  return plan.settle(t, { jobId: `r.${t.name}`, state, exitCode: state === 'succeeded' ? 0 : 3, signal: null, reason: 'exited', status: state === 'succeeded' ? 0 : 3, attempts: 1, startedAt: 1000, endedAt: 2500, logPath: `/logs/${t.name}.log`, gpu: slot.gpu, slot: slot.index, leftovers: [], ...extra });
}

describe('progress display', () => {
  it('on a terminal: a live block per GPU with running tasks and their age, totals and ETA, redrawn in place', () => {
    const { plan } = setup();
    const out = fakeStream(true);
    const p = createProgress({ mode: 'live', stream: out, refreshMs: 60_000 });
    p.begin('r', plan, SLOTS);
    const a = plan.nextReady()!;
    plan.take(a);
    p.started(a, SLOTS[0]!);
    const b = plan.nextReady()!;
    plan.take(b);
    p.started(b, SLOTS[1]!);
    assert.match(out.text(), /GPU 0  sample\.1 \(a\.pt\) \d+ms  \|  idle/);
    assert.match(out.text(), /GPU 1  sample\.2 \(b\.pt\) \d+ms/);
    assert.match(out.text(), /done 0\/6  failed 0  left 6 .*ETA \?/);
    finish(plan, a, SLOTS[0]!, 'succeeded');
    p.ended(a, []);
    const skipped = finish(plan, b, SLOTS[1]!, 'failed', { attempts: 2 });
    p.ended(b, skipped);
    const text = out.text();
    assert.match(text, /\x1b\[\d+A\x1b\[0J/, 'the block is redrawn in place');
    assert.match(text, /FAILED sample\.2 \(b\.pt\) on GPU 1: exit 3 after 1\.5s, 2 attempts; log \/logs\/sample\.2\.log/);
    assert.match(text, /skipped evaluate\.2 \(b\.pt\): sample failed/);
    assert.match(text, /done 1\/6  failed 1  skipped 1  left 3 .*ETA \S+/);
    p.close();
  });

  it('not on a terminal: one plain line per ended task, no escape codes', () => {
    const { plan } = setup();
    const out = fakeStream(false);
    const p = createProgress({ mode: 'plain', stream: out });
    p.begin('r', plan, SLOTS);
    const a = plan.nextReady()!;
    plan.take(a);
    p.started(a, SLOTS[0]!);
    p.retrying(a, 2, 1000);
    finish(plan, a, SLOTS[0]!, 'succeeded', { attempts: 2 });
    p.ended(a, []);
    p.waiting(1, '1 other process(es) on GPU 1');
    p.close();
    const lines = out.text().split('\n');
    assert.equal(lines[0], 'retry sample.1 (a.pt): attempt 2 in 1.0s');
    assert.match(lines[1]!, /^\[done 1\/6  failed 0  left 5  elapsed \S+  ETA \S+\] ok sample\.1 \(a\.pt\) on GPU 0 1\.5s, 2 attempts$/);
    assert.equal(lines[2], 'preflight: waiting for GPU 1: 1 other process(es) on GPU 1');
    assert.equal(lines.length, 4);
    assert.doesNotMatch(out.raw(), /\x1b/);
  });

  it('quiet: nothing at all', () => {
    const { plan } = setup();
    const out = fakeStream(true);
    const p = createProgress({ mode: 'quiet', stream: out });
    p.begin('r', plan, SLOTS);
    p.note('hello');
    p.close();
    assert.equal(out.text(), '');
  });
});

describe('live display in a narrow window', () => {
  const narrowSetup = () => {
    const stage = { name: 'sample', needs: [], run: { kind: 'argv' as const, argv: ['true'] }, cwd: '/', env: {}, timeoutMs: null, retries: 1, backoffMs: 0, backoffMaxMs: null, stopSignal: 'SIGTERM' as const, graceMs: 1 };
    const items = ['/data/experiments/a/very/long/path/to/checkpoints/epoch_0001.pt', '/数据/实验/检查点/模型权重文件_第一轮训练结果_最终版本.pt'];
    const spec: PoolSpec = { name: null, source: null, cwd: '/', gpus: [0, 1], perGpu: 2, slots: SLOTS, halt: { mode: 'never' }, preflight: 'ignore', minFreeMemBytes: null, graceMs: 1, items: buildItems(items), stages: [stage] };
    return new PoolPlan(spec);
  };

  it('every row of the block fits the window in display columns, and each redraw moves up over exactly the last frame', () => {
    const plan = narrowSetup();
    const out = fakeStream(true);
    (out as { columns: number }).columns = 60;
    const p = createProgress({ mode: 'live', stream: out, refreshMs: 60_000 });
    p.begin('r', plan, SLOTS);
    for (const slot of [SLOTS[0]!, SLOTS[1]!]) {
      const t = plan.nextReady()!;
      plan.take(t);
      p.started(t, slot);
    }
    p.waiting(1, 'GPU 1 is busy with 3 other process(es) of other users');
    const frames = out.raw().split(/\r\x1b\[\d+A\x1b\[0J/);
    const ups = [...out.raw().matchAll(/\x1b\[(\d+)A/g)].map((m) => Number(m[1]));
    for (const [i, f] of frames.entries()) {
      const rows = f.split('\n').filter(Boolean);
      for (const r of rows) assert.ok(displayWidth(r) <= 59, `fits 60 columns (${displayWidth(r)}): ${r}`);
      if (i > 0) assert.equal(ups[i - 1], frames[i - 1]!.split('\n').filter(Boolean).length, 'moves up over the last frame exactly');
    }
    assert.match(out.text(), /\(\/数.*…/, 'a CJK name cut in the middle');
    // the window narrowed to 30: the last frame's rows now wrap, and the redraw moves up over all its lines
    (out as { columns: number }).columns = 30;
    const before = out.raw().length;
    p.note('x');
    const up = Number(/\x1b\[(\d+)A/.exec(out.raw().slice(before))![1]);
    const last = frames.at(-1)!.split('\n').filter(Boolean);
    assert.equal(up, last.reduce((n, r) => n + Math.ceil(displayWidth(r) / 30), 0));
    assert.ok(up > last.length);
    p.close();
  });

  it('a retry says how the attempt before ended', () => {
    const plan = narrowSetup();
    const out = fakeStream(false);
    const p = createProgress({ mode: 'plain', stream: out });
    p.begin('r', plan, SLOTS);
    p.retrying(plan.tasks[0]!, 2, 1500, 'timed out (limit 10s)');
    p.close();
    assert.match(out.text(), /^retry sample\.1 \(\/data\/exper.*….*epoch_0001\.pt\): attempt 1 timed out \(limit 10s\); attempt 2 in 1\.5s\n$/);
  });
});

describe('pool summary', () => {
  it('a table per stage, the tasks that did not succeed with their logs, the resume command; JSON with every task', () => {
    const { plan } = setup();
    const a = plan.nextReady()!;
    plan.take(a);
    finish(plan, a, SLOTS[0]!, 'succeeded');
    const b = plan.tasks.find((t) => t.name === 'sample.2')!;
    plan.take(b);
    finish(plan, b, SLOTS[1]!, 'failed', { reason: 'timeout', status: 124, exitCode: null, signal: 'SIGKILL' });
    const result: PoolResult = { runId: 'R1', resumedFrom: null, status: 'failed', exitCode: 1, stopReason: 'completed', startedAt: 0, endedAt: 4000, tasks: plan.tasks, leftovers: [] };
    const text = renderPoolSummary(result, fakeStream(false));
    assert.match(text, /stage\s+ok\s+failed\s+timed out\s+skipped\s+not run\s+done before\s+mean time\nsample\s+1\s+1\s+1\s+0\s+1\s+0\s+1\.5s\nevaluate\s+0\s+0\s+0\s+1\s+2\s+0\s+-/);
    assert.match(text, /sample\.2 \(b\.pt\)\s+GPU 1\s+timed out\s+1\s+\/logs\/sample\.2\.log/);
    assert.match(text, /run R1 failed in 4\.0s \(exit status 1\); run what did not succeed with: corral pool --resume R1/);
    const json = poolResultToJson(result) as { counts: Record<string, number>; tasks: { state: string; reason: string | null; durationMs: number | null }[] };
    assert.deepEqual(json.counts, { total: 6, succeeded: 1, failed: 1, skipped: 1, stopped: 0, notStarted: 3, doneBefore: 0 });
    assert.equal(json.tasks[2]!.reason, 'timeout');
    assert.equal(json.tasks[0]!.durationMs, 1500);
    assert.equal(json.tasks[4]!.state, 'not-started');
  });
});
