import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DURATION_MS } from '../../src/config/duration.ts';
import { signalNumberOf } from '../../src/config/signals.ts';
import { exitStatusOf, restartDelayMs, shouldRestart, type AttemptEnd, type RestartPolicy } from '../../src/supervise/restart-policy.ts';

const DAY = 86_400_000;
const exited = (code: number): AttemptEnd => ({ exitCode: code, signal: null, reason: 'exited' });

test('long restart delays stay what was asked: 30 days is 30 days, not a hot loop', () => {
  const p: RestartPolicy = { mode: 'always', delayMs: 30 * DAY, maxRestarts: Infinity };
  for (const n of [1, 2, 50]) assert.equal(restartDelayMs(p, n), 30 * DAY);
  assert.ok(restartDelayMs(p, 1) > 2 ** 31, 'longer than one Node timer: the runner chains timers for it');
});

test('backoff grows by its factor up to its cap; an uncapped backoff stops at the longest duration', () => {
  const capped: RestartPolicy = { mode: 'on-failure', delayMs: 1000, maxRestarts: 10, factor: 2, maxDelayMs: 5000 };
  assert.deepEqual([1, 2, 3, 4, 5].map((n) => restartDelayMs(capped, n)), [1000, 2000, 4000, 5000, 5000]);
  const bigCap: RestartPolicy = { mode: 'on-failure', delayMs: DAY, maxRestarts: Infinity, factor: 2, maxDelayMs: 40 * DAY };
  assert.equal(restartDelayMs(bigCap, 6), 32 * DAY);
  assert.equal(restartDelayMs(bigCap, 7), 40 * DAY, 'a cap past 2^31 ms holds');
  const uncapped: RestartPolicy = { mode: 'always', delayMs: 1000, maxRestarts: Infinity, factor: 2 };
  for (const n of [40, 1100, 5000]) {
    const d = restartDelayMs(uncapped, n);
    assert.ok(Number.isFinite(d) && d === MAX_DURATION_MS, `restart ${n}: ${d}`);
  }
  assert.equal(restartDelayMs({ mode: 'always', delayMs: 0, maxRestarts: Infinity, factor: 2 }, 5000), 0, '0 x Infinity is no wait, not NaN');
  assert.equal(restartDelayMs({ mode: 'always', delayMs: 500, maxRestarts: 3, factor: 3, maxDelayMs: null }, 3), 4500);
});

test('shouldRestart: modes, the restart budget, and stops from outside never restart', () => {
  const always: RestartPolicy = { mode: 'always', delayMs: 0, maxRestarts: 2 };
  const onFailure: RestartPolicy = { mode: 'on-failure', delayMs: 0, maxRestarts: Infinity };
  const no: RestartPolicy = { mode: 'no', delayMs: 0, maxRestarts: 0 };
  assert.equal(shouldRestart(always, exited(0), 0), true);
  assert.equal(shouldRestart(always, exited(0), 1), true);
  assert.equal(shouldRestart(always, exited(0), 2), false, 'the budget is spent');
  assert.equal(shouldRestart(onFailure, exited(0), 0), false);
  assert.equal(shouldRestart(onFailure, exited(3), 1000), true);
  assert.equal(shouldRestart(onFailure, { exitCode: null, signal: null, reason: 'timeout' }, 0), true, 'a timed-out attempt failed');
  assert.equal(shouldRestart(no, exited(1), 0), false);
  for (const reason of ['max-runtime', 'signal', 'main-ended', 'supervisor-lost', 'spawn-failed', 'halted'] as const) {
    assert.equal(shouldRestart(always, { exitCode: 1, signal: null, reason }, 0), false, reason);
  }
});

test('exitStatusOf follows timeout(1): own code, 128+N, 124 for either limit, 125 when nothing is known', () => {
  assert.equal(exitStatusOf(exited(7), signalNumberOf), 7);
  assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGKILL', reason: 'exited' }, signalNumberOf), 137);
  assert.equal(exitStatusOf({ exitCode: null, signal: 'SIGTERM', reason: 'signal' }, signalNumberOf), 143);
  assert.equal(exitStatusOf({ exitCode: 0, signal: null, reason: 'timeout' }, signalNumberOf), 124);
  assert.equal(exitStatusOf({ exitCode: null, signal: null, reason: 'max-runtime' }, signalNumberOf), 124);
  // a leader corral had to give up on (EPERM, D state) has no exit to report
  assert.equal(exitStatusOf({ exitCode: null, signal: null, reason: 'signal' }, signalNumberOf), 125);
});
