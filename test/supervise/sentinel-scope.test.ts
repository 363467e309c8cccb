import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { isAlive, pidHeld, type Identity } from '../../src/proc/identity.ts';
import { SentinelKeeper } from '../../src/supervise/sentinel-keeper.ts';
import { ScopeFile, readScopeFd, scopesFromState, unionScopes, type RunRecord } from '../../src/supervise/sentinel-scope.ts';
import { waitFor } from '../helpers/procs.ts';

const RUN: RunRecord = {
  k: 'run', run: 'unit-run', boot: currentBootId(), since: 1234, uid: 0, graceMs: 500, signal: 'SIGTERM',
  cgroup: '/sys/fs/cgroup/unified/corral-unit-run', supervisor: { pid: process.pid, starttime: 1 }, ledger: null,
};

describe("the sentinel's own copy of the scope", () => {
  it('adds up records (a leader replaced then cleared, sightings then gone) and skips a torn last line', () => {
    const f = new ScopeFile();
    try {
      f.write([RUN, { k: 'job', job: 'unit-run.main', cgroup: '/cg/main', leader: [100, 5000] }]);
      f.write([{ k: 'seen', job: 'unit-run.main', ids: [[100, 5000], [101, 5001]] }, { k: 'seen', job: null, ids: [[200, 6000]] }]);
      f.write([{ k: 'gone', ids: [[101, 5001]] }, { k: 'job', job: 'unit-run.side', cgroup: null, leader: [300, 7000] }]);
      f.write([{ k: 'job', job: 'unit-run.side', cgroup: null, leader: null }]);
      writeSync(f.fd, '{"k":"seen","job":"unit-run.main","ids":[[999'); // the supervisor died inside a write
      const scopes = scopesFromState(readScopeFd(f.fd));
      const main = scopes.find((s) => s.jobId === 'unit-run.main')!;
      assert.deepEqual(main.leader, { pid: 100, starttime: 5000 });
      assert.equal(main.cgroup, '/cg/main');
      assert.deepEqual(main.registry, [{ pid: 100, starttime: 5000 }]);
      assert.equal(scopes.find((s) => s.jobId === 'unit-run.side')!.leader, null, 'a job between attempts has no leader');
      const whole = scopes.find((s) => s.wholeRun)!;
      assert.equal(whole.cgroup, RUN.cgroup);
      assert.equal(whole.sinceTicks, 1234);
      assert.deepEqual(whole.registry, [{ pid: 100, starttime: 5000 }, { pid: 200, starttime: 6000 }]);
    } finally {
      f.close();
    }
  });

  it('unites with the ledger: either cgroup and leader, both registries, once each', () => {
    const a = [{ runId: 'r', jobId: 'r.main', cgroup: null, leader: { pid: 1, starttime: 2 }, sinceTicks: 10, registry: [{ pid: 1, starttime: 2 }] }];
    const b = [
      { runId: 'r', jobId: 'r.main', cgroup: '/cg', leader: { pid: 9, starttime: 9 }, sinceTicks: 10, registry: [{ pid: 1, starttime: 2 }, { pid: 3, starttime: 4 }] },
      { runId: 'r', jobId: 'r.side', cgroup: '/cg2', sinceTicks: 10, registry: [] },
    ];
    const u = unionScopes(a, b);
    assert.deepEqual(u.map((s) => s.jobId), ['r.main', 'r.side']);
    assert.equal(u[0]!.cgroup, '/cg');
    assert.deepEqual(u[0]!.leader, { pid: 1, starttime: 2 }, "the sentinel's own leader first: it is the newer");
    assert.deepEqual(u[0]!.registry, [{ pid: 1, starttime: 2 }, { pid: 3, starttime: 4 }]);
  });

  it("tells the sentinel each job's leader while its attempt runs, and that it has none once it ended, for jobs that start and end in any order", async () => {
    const logDir = mkdtempSync(join(tmpdir(), 'corral-keeper-'));
    const keeper = new SentinelKeeper({ ...RUN, since: ticksNow() }, logDir, { replaced: () => {} });
    const job = (name: string, pid: number) => ({ runId: 'unit-run', jobId: `unit-run.${name}`, cgroup: `/cg/${name}`, leader: { pid, starttime: pid }, sinceTicks: 0 });
    const leaders = () => {
      const fd = openSync(`/proc/${keeper.identity.pid}/fd/3`, 'r');
      try {
        return Object.fromEntries([...readScopeFd(fd).jobs].map(([id, j]) => [id.slice('unit-run.'.length), j.leader?.pid ?? null]));
      } finally {
        closeSync(fd);
      }
    };
    try {
      keeper.updateJobs([job('a', 100), job('b', 200)]);
      assert.deepEqual(leaders(), { a: 100, b: 200 });
      keeper.updateJobs([job('b', 200)]);
      assert.deepEqual(leaders(), { a: null, b: 200 }, 'a ended: its pid may be anyone now');
      keeper.updateJobs([job('b', 200), job('c', 300), job('a', 101)]);
      assert.deepEqual(leaders(), { a: 101, b: 200, c: 300 }, "a's next attempt");
      keeper.updateJobs([]);
      assert.deepEqual(leaders(), { a: null, b: null, c: null });
      keeper.updateJobs([job('d', 400)]);
      assert.deepEqual(leaders(), { a: null, b: null, c: null, d: 400 });
    } finally {
      await keeper.close();
    }
  });

  it('a scope file past its bound is compacted under a fresh sentinel, with the whole scope; the old one is collected', async () => {
    const replaced: [Identity, Identity, string][] = [];
    const logDir = mkdtempSync(join(tmpdir(), 'corral-keeper-'));
    const keeper = new SentinelKeeper({ ...RUN, since: ticksNow() }, logDir, { replaced: (o, n, why) => replaced.push([o, n, why]) }, { compactBytes: 4096 });
    const first = keeper.identity;
    try {
      assert.ok(isAlive(first));
      keeper.updateJobs([{ runId: 'unit-run', jobId: 'unit-run.main', cgroup: '/cg/main', leader: { pid: 100, starttime: 5000 }, sinceTicks: 0 }]);
      for (let i = 0; i < 400; i++) keeper.updateRegistry([{ pid: 10_000 + i, starttime: 1, jobId: 'unit-run.main' }], i ? [{ pid: 10_000 + i - 1, starttime: 1 }] : []);
      assert.ok(replaced.length >= 1, 'the keeper started a fresh sentinel');
      assert.match(replaced[0]![2], /compacted/);
      await waitFor(() => !pidHeld(first), 'the retired sentinel to exit and be collected');
      await waitFor(() => keeper.pids.length === 1, 'the retired sentinels to leave the exclude list');
      assert.deepEqual(keeper.pids, [keeper.identity.pid], 'teardowns exclude the live sentinel, and only it once the others exited');
      // What the new sentinel holds: the snapshot, as its teardown would read it.
      const text = readFileSync(`/proc/${keeper.identity.pid}/fd/3`, 'utf8');
      assert.ok(text.length <= 4096 + 200, `a snapshot and what came after it, not the history (${text.length} bytes)`);
      assert.match(text.split('\n')[0]!, /"k":"run"/, 'the snapshot comes first');
      const fd = openSync(`/proc/${keeper.identity.pid}/fd/3`, 'r');
      const state = readScopeFd(fd);
      closeSync(fd);
      assert.deepEqual(state.jobs.get('unit-run.main'), { cgroup: '/cg/main', leader: { pid: 100, starttime: 5000 } });
      assert.deepEqual([...state.seen.keys()], ['10399:1'], 'the last sighting, and nothing that is gone');
    } finally {
      const last = keeper.identity;
      await keeper.close();
      assert.equal(pidHeld(last), false, 'a clean close collects the sentinel');
    }
  });
});
