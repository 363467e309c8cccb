import assert from 'node:assert/strict';
import { test } from 'node:test';
import { takenByDefault } from '../../src/reap/safety.ts';
import type { ReasonHit, Stray } from '../../src/strays/types.ts';

function stray(reasons: ReasonHit['reason'][], runId?: string): Stray {
  return {
    pid: 10, starttime: 1, ppid: 1, pgid: 10, sid: 10, uid: 1000, user: 'alice', state: 'S', comm: 'sleep', argv: ['sleep'], command: 'sleep',
    startedAt: 0, runtimeMs: 0, cpuTicks: 0, rssBytes: 0, orphaned: true, gpu: [], gpuBytes: 0, severity: 'warning',
    reasons: reasons.map((reason) => ({ reason, severity: 'warning', data: {} })),
    attribution: runId ? { runId, activeAtStart: [] } : { activeAtStart: [] },
  } as Stray;
}

test('reap --strays without --reason leaves escaped-tmux candidates alone unless named by pid', () => {
  assert.equal(takenByDefault(stray(['escaped-tmux']), false, false), false, 'a candidate on timeline evidence alone');
  assert.equal(takenByDefault(stray(['escaped-tmux']), false, true), true, 'named by pid');
  assert.equal(takenByDefault(stray(['orphan']), false, false), true, 'an ordinary orphan of the user');
  assert.equal(takenByDefault(stray(['escaped-tmux', 'stopped']), false, false), true, 'another reason of its own');
});

test('as root, only strays of corral runs and GPU holders are taken by default', () => {
  assert.equal(takenByDefault(stray(['orphan']), true, false), false);
  assert.equal(takenByDefault(stray(['run-ended'], 'R'), true, false), true);
  assert.equal(takenByDefault(stray(['gpu-holder']), true, false), true);
});
