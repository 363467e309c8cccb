import { test } from 'node:test';
import assert from 'node:assert/strict';
import { coverage, decide, inQuietHours, ruleMatches } from '../../src/guard/decide.ts';
import { defaultPolicy, type Policy } from '../../src/guard/policy.ts';
import type { TrackedStray } from '../../src/guard/tracked.ts';
import type { Stray } from '../../src/strays/types.ts';

const stray = (over: Partial<Stray> = {}): Stray => ({
  pid: 4242, starttime: 1, ppid: 1, pgid: 4242, sid: 4242, uid: 1500, user: 'alice', state: 'S', comm: 'python', argv: ['python'], command: 'python',
  startedAt: 0, runtimeMs: 3_600_000, cpuTicks: 0, rssBytes: 0, orphaned: true, gpu: [], gpuBytes: 0,
  reasons: [{ reason: 'orphan', severity: 'warning', data: {} }], severity: 'warning', attribution: { activeAtStart: [] }, ...over,
});
const row = (over: Partial<TrackedStray> = {}): TrackedStray => ({
  pid: 4242, starttime: 1, boot_id: 'b', uid: 1500, user: 'alice', command: 'python', reasons: 'orphan', severity: 'warning', gpu_bytes: 0, run_id: null,
  first_up: 1_000_000, last_up: 1_000_000, first_at: 0, last_at: 0, gone_up: null, notified_up: null, notify_count: 0, reaped_up: null, skip_note: null, ...over,
});
const policy = (over: Partial<Policy> = {}): Policy => ({ ...defaultPolicy(), minAgeMs: 0, rules: [{ reasons: ['orphan'], notifyMs: 0, reapMs: 600_000 }], ...over });

test('decide: delays count from first seen; reap waits for its delay; a notice is not repeated within notify.repeat', () => {
  const p = policy();
  assert.deepEqual([decide(stray(), row(), p, 1_000_000).notify, decide(stray(), row(), p, 1_000_000).reap], [true, false]);
  assert.equal(decide(stray(), row(), p, 1_000_000).reapInMs, 600_000);
  assert.equal(decide(stray(), row(), p, 1_600_000).reap, true);
  assert.equal(decide(stray(), row({ notified_up: 1_500_000 }), p, 1_600_000).notify, false, 'notified 100 s ago: not again');
  assert.equal(decide(stray(), row({ notified_up: 1_000_000 }), p, 1_000_000 + p.notify.repeatMs).notify, true, 'again after repeat');
});

test('decide: never reaps a system service by cgroup, nor an allow-listed process, nor one younger than min_age', () => {
  const p = policy({ rules: [{ reasons: ['orphan'], reapMs: 0 }] });
  assert.match(decide(stray({ cgroup: '/system.slice/nvidia-persistenced.service' }), row(), p, 1_000_000).skip ?? '', /system service/);
  assert.match(decide(stray({ allowListed: 'name tmux' }), row(), p, 1_000_000).skip ?? '', /allow-listed/);
  assert.match(decide(stray({ runtimeMs: 10 }), row(), policy({ minAgeMs: 60_000, rules: p.rules }), 1_000_000).skip ?? '', /younger than min_age/);
  assert.equal(decide(stray({ cgroup: '/user.slice/user-1500.slice/session-3.scope' }), row(), p, 1_000_000).reap, true);
});

test('coverage: users narrows, exclude_users wins, the default takes human users and root only for corral runs', () => {
  assert.equal(coverage(stray(), policy({ users: ['bob'] })), 'outside');
  assert.equal(coverage(stray(), policy({ users: ['alice', 'bob'], excludeUsers: ['alice'] })), 'excluded');
  assert.equal(coverage(stray({ uid: 1500 }), policy()), 'covered');
  assert.equal(coverage(stray({ uid: 998, user: 'svc' }), policy()), 'outside');
  assert.equal(coverage(stray({ uid: 0, user: 'root' }), policy()), 'outside');
  assert.equal(coverage(stray({ uid: 0, user: 'root', attribution: { runId: 'r1', activeAtStart: [] } }), policy()), 'covered');
});

test('rules: reason and severity both select; quiet hours wrap past midnight', () => {
  assert.equal(ruleMatches({ reasons: ['orphan'], severities: ['critical'] }, stray()), false);
  assert.equal(ruleMatches({ severities: ['warning'] }, stray()), true);
  const p = policy({ quietHours: { start: 22 * 60, end: 7 * 60 } });
  const at = (h: number) => new Date(2026, 0, 1, h, 30);
  assert.deepEqual([23, 3, 7, 12].map((h) => inQuietHours(p, at(h))), [true, true, false, false]);
});
