import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildSlots, parseGpuEntries, parseGpuList } from '../../src/config/gpu-list.ts';

test('parses single indexes, lists, ranges and mixtures', () => {
  assert.deepEqual(parseGpuList('2'), [2]);
  assert.deepEqual(parseGpuList('0,1'), [0, 1]);
  assert.deepEqual(parseGpuList('0-3'), [0, 1, 2, 3]);
  assert.deepEqual(parseGpuList(' 0-1 , 4 '), [0, 1, 4]);
  assert.deepEqual(parseGpuList('3,1'), [3, 1]);
  assert.deepEqual(parseGpuEntries([0, '2-3']), [0, 2, 3]);
});

test('rejects empty parts, junk, backwards ranges, repeats and absurd indexes', () => {
  for (const bad of ['', '0,,1', 'a', '-1', '1-', '0-1-2', '1.5']) {
    assert.throws(() => parseGpuList(bad), { name: 'UsageError', message: /^expected GPU indexes such as 0,1 or 0-3 or 0-1,4, found/ }, bad);
  }
  assert.throws(() => parseGpuList('3-1'), { hint: 'the range 3-1 runs backwards; write 1-3' });
  assert.throws(() => parseGpuList('0-2,1'), { message: /found GPU 1 twice/ });
  assert.throws(() => parseGpuList('0-30000'), { message: /up to 1023/ });
  assert.throws(() => parseGpuEntries([]), { message: /found an empty list/ });
});

test('slots interleave GPUs so the first tasks spread over all of them', () => {
  assert.deepEqual(buildSlots([2, 5], 2, 0).map((s) => s.gpu), [2, 5, 2, 5]);
  assert.deepEqual(buildSlots([2, 5], 2, 0).map((s) => s.index), [0, 1, 2, 3]);
  assert.deepEqual(buildSlots([], 1, 3), [{ index: 0, gpu: null }, { index: 1, gpu: null }, { index: 2, gpu: null }]);
});
