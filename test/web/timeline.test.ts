import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { GpuView } from '../../src/gpu/types.ts';
import { sampleGpuMemory, Timeline } from '../../src/web/timeline.ts';

const MIB = 2 ** 20;

test('the timeline keeps only its capacity, oldest first, and answers "since a time" and "after a sample"', () => {
  const tl = new Timeline({ capacity: 3 });
  for (let i = 1; i <= 5; i++) tl.record({ at: i * 1000, devices: { 0: i }, users: {} });
  assert.deepEqual(tl.samples().map((s) => [s.seq, s.at]), [[3, 3000], [4, 4000], [5, 5000]], 'the two oldest were dropped');
  assert.deepEqual(tl.samples(4000).map((s) => s.seq), [4, 5]);
  assert.deepEqual(tl.samplesAfter(4).map((s) => s.seq), [5]);
  // a wall clock stepped back: sample numbers still say what is new
  tl.record({ at: 10, devices: {}, users: {} });
  assert.deepEqual(tl.samplesAfter(5).map((s) => s.seq), [6]);
  assert.equal(tl.samples().length, 3);
});

test('a sample sums GPU memory per device (the device figure when known) and per owning user, with a bound on users', () => {
  const view: GpuView = {
    devices: [{ index: 0, memUsedBytes: 6000 * MIB, source: 'nvml' }, { index: 1, source: 'nvml' }],
    processes: [
      { pid: 10, device: 0, usedBytes: 5000 * MIB, kind: 'compute', sources: ['nvml'] },
      { pid: 11, device: 1, usedBytes: 300 * MIB, kind: 'compute', sources: ['nvml'] },
      { pid: 12, device: 1, usedBytes: 200 * MIB, kind: 'compute', sources: ['nvml'] },
      { pid: 13, device: -1, usedBytes: null, kind: 'device-fd', sources: ['procfs'] },
      { pid: 14, device: 0, usedBytes: 100 * MIB, kind: 'compute', sources: ['nvml'] },
    ],
    probes: [],
  };
  const owners: Record<number, string> = { 10: 'alice', 11: 'bob', 12: 'alice' };
  const s = sampleGpuMemory(view, (pid) => owners[pid], 42);
  assert.deepEqual(s, { at: 42, devices: { 0: 6000, 1: 500 }, users: { alice: 5200, bob: 300, '?': 100 } });
  const many: GpuView = { devices: [], probes: [], processes: Array.from({ length: 40 }, (_, i) => ({ pid: i, device: 0, usedBytes: (i + 1) * MIB, kind: 'compute' as const, sources: ['nvml' as const] })) };
  const bounded = sampleGpuMemory(many, (pid) => `user${pid}`);
  assert.equal(Object.keys(bounded.users).length, 17, '16 users and "other"');
  assert.equal(bounded.users.other, (24 * 25) / 2, 'the 24 smallest summed');
});
