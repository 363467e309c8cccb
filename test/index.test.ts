import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as corral from '../src/index.ts';

test('the library API loads and its scan sees this process', () => {
  for (const name of ['takeSnapshot', 'teardown', 'runMain', 'runPool', 'scanStrays', 'buildPlan', 'executePlan', 'probeGpus', 'openLedger']) {
    assert.equal(typeof (corral as Record<string, unknown>)[name], 'function', name);
  }
  assert.equal(corral.takeSnapshot().get(process.pid)?.pid, process.pid);
});
