import assert from 'node:assert/strict';
import { test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import { applyStrayFilters, parsePids, parseReasons, parseStrayFilters } from '../../src/strays/filters.ts';
import { STRAY_REASONS, type Stray } from '../../src/strays/types.ts';

const stray = (s: Partial<Stray> & { pid: number }): Stray => ({
  starttime: 1, ppid: 1, pgid: s.pid, sid: s.pid, uid: 1000, user: 'alice', state: 'S', comm: 'x', argv: ['x'], command: 'x', startedAt: 0,
  runtimeMs: 60_000, cpuTicks: 0, rssBytes: 0, orphaned: true, gpu: [], gpuBytes: 0, reasons: [{ reason: 'orphan', severity: 'warning', data: {} }],
  severity: 'warning', attribution: { activeAtStart: [] }, ...s,
});

test('--reason: lists, all, and a suggestion for a typo', () => {
  assert.deepEqual(parseReasons('orphan, stopped'), ['orphan', 'stopped']);
  assert.deepEqual(parseReasons('all'), [...STRAY_REASONS]);
  assert.throws(() => parseReasons('orphn'), (e: unknown) => e instanceof UsageError && e.hint === 'did you mean orphan?');
  assert.throws(() => parseReasons(','), UsageError);
});

test('flags are validated before anything runs', () => {
  assert.deepEqual(parseStrayFilters({ user: 'alice,0', gpu: '0-1', olderThan: '2h', reason: 'zombie', run: 'last' }, () => '20261123-111800-a3f9'), {
    users: ['alice', '0'], gpus: [0, 1], olderThanMs: 7_200_000, reasons: ['zombie'], run: '20261123-111800-a3f9',
  });
  assert.throws(() => parseStrayFilters({ olderThan: 'soon' }), UsageError);
  assert.throws(() => parseStrayFilters({ gpu: 'x' }), UsageError);
  assert.throws(() => parseStrayFilters({ user: ' , ' }), UsageError);
  assert.deepEqual(parsePids(['12', '345']), [12, 345]);
  assert.throws(() => parsePids(['12x']), UsageError);
  assert.throws(() => parsePids(['0']), UsageError);
});

test('filters: user (name or uid), GPU (index, or minor where no index is known), age, reason, run prefix, pids', () => {
  const a = stray({ pid: 1, gpu: [{ device: 0, usedBytes: 1, kind: 'compute' }], attribution: { runId: '20261123-111800-a3f9', activeAtStart: [] } });
  const b = stray({ pid: 2, uid: 0, user: 'root', runtimeMs: 1000, gpu: [{ device: -1, deviceMinor: 1, usedBytes: null, kind: 'device-fd' }] });
  const c = stray({ pid: 3, state: 'Z', reasons: [{ reason: 'zombie', severity: 'info', data: {} }] });
  const all = [a, b, c];
  const pids = (f: Parameters<typeof applyStrayFilters>[1]) => applyStrayFilters(all, f).map((s) => s.pid);
  assert.deepEqual(pids({ users: ['alice'] }), [1, 3]);
  assert.deepEqual(pids({ users: ['0'] }), [2]);
  assert.deepEqual(pids({ gpus: [0] }), [1]);
  assert.deepEqual(pids({ gpus: [1] }), [2]);
  assert.deepEqual(pids({ olderThanMs: 30_000 }), [1, 3]);
  assert.deepEqual(pids({ reasons: ['zombie'] }), [3]);
  assert.deepEqual(pids({ run: '20261123-1118' }), [1]);
  assert.deepEqual(pids({ pids: [2, 3, 99] }), [2, 3]);
  assert.deepEqual(pids({}), [1, 2, 3]);
});
