import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monotonicMs } from '../../src/proc/clock.ts';
import { waitFor } from '../helpers/procs.ts';

// corral's deadlines and durations read monotonicMs (process.hrtime), not the global performance (which
// loads perf_hooks): the same clock as performance.now(), from another origin. Each reading of monotonicMs
// is bracketed by two of performance.now(), so the comparison holds however long the thread was away.
test('monotonicMs runs on the clock performance.now() reads, never backwards', async () => {
  performance.now(); // perf_hooks loaded before the first bracket
  const bracket = () => {
    const before = performance.now();
    const at = monotonicMs();
    return { before, at, after: performance.now() };
  };
  const start = bracket();
  let last = start.at;
  for (let i = 0; i < 1000; i++) {
    const now = monotonicMs();
    assert.ok(now >= last, `went back from ${last} to ${now}`);
    last = now;
  }
  await waitFor(() => performance.now() - start.after >= 50, '50 ms to pass');
  const end = bracket();
  const moved = end.at - start.at;
  const slack = 0.05; // performance.now() and the hrtime conversion round differently
  assert.ok(moved >= end.before - start.after - slack && moved <= end.after - start.before + slack,
    `monotonicMs moved ${moved.toFixed(3)} ms; performance.now() between ${(end.before - start.after).toFixed(3)} and ${(end.after - start.before).toFixed(3)} ms`);
});
