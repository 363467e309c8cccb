import assert from 'node:assert/strict';
import { test } from 'node:test';
import { monotonicMs } from '../../src/proc/clock.ts';
import { waitFor } from '../helpers/procs.ts';

// corral's deadlines and durations read monotonicMs (process.hrtime), not the global performance (which
// loads perf_hooks): the same clock as performance.now(), from another origin.
test('monotonicMs runs on the clock performance.now() reads, never backwards', async () => {
  const a = monotonicMs();
  const p = performance.now();
  let last = a;
  for (let i = 0; i < 1000; i++) {
    const now = monotonicMs();
    assert.ok(now >= last, `went back from ${last} to ${now}`);
    last = now;
  }
  await waitFor(() => performance.now() - p >= 50, '50 ms to pass');
  const elapsed = monotonicMs() - a;
  const perf = performance.now() - p;
  assert.ok(Math.abs(elapsed - perf) < 5, `monotonicMs moved ${elapsed.toFixed(2)} ms while performance.now() moved ${perf.toFixed(2)} ms`);
});
