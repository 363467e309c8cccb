import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, test } from 'node:test';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { takeSnapshot, type ProcInfo, type Snapshot } from '../../src/proc/snapshot.ts';
import { collectMembers, type Refused } from '../../src/supervise/members.ts';
import type { JobScope } from '../../src/supervise/scope.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

const UID = 1000;

function proc(p: Partial<ProcInfo> & { pid: number }): ProcInfo {
  return {
    comm: 'x', state: 'S', ppid: 1, pgid: p.pid, sid: p.pid, ttyNr: 0, cpuTicks: 0, threads: 1, starttime: 1000, rssPages: 1,
    uid: UID, cmdline: ['x'], kernelThread: false, ...p,
  };
}

function snapOf(...ps: ProcInfo[]): Snapshot {
  return new Map(ps.map((p) => [p.pid, p]));
}

const scope = (over: Partial<JobScope> = {}): JobScope => ({ runId: 'R', jobId: 'R.main', sinceTicks: 900, uid: UID, leader: { pid: 500, starttime: 1000 }, ...over });

test('the session and group rule holds only while the leader identity is held: a reused pid starts nobody else\'s session', () => {
  // The job's leader (500, started at tick 1000) is gone; an unrelated process got pid 500 at tick 5000 and called setsid.
  const reused = proc({ pid: 500, starttime: 5000 });
  const itsChild = proc({ pid: 501, ppid: 500, pgid: 500, sid: 500, starttime: 5001 });
  assert.deepEqual([...collectMembers([scope()], snapOf(reused, itsChild), new Set()).keys()], []);
  // The same session while the leader is alive, and while it is a zombie (its pid cannot be reused yet).
  for (const state of ['S', 'Z']) {
    const leader = proc({ pid: 500, starttime: 1000, state });
    const member = proc({ pid: 501, ppid: 1, pgid: 500, sid: 500, starttime: 1001 });
    assert.deepEqual([...collectMembers([scope()], snapOf(leader, member), new Set()).keys()].sort(), [500, 501]);
  }
});

test('a marker on another uid\'s process is no membership: it is refused and reported, never collected', () => {
  const forged = proc({ pid: 700, uid: 4242, sid: 700, pgid: 700, env: { readable: true, runId: 'R', jobId: 'R.main' } });
  const own = proc({ pid: 701, sid: 701, pgid: 701, env: { readable: true, runId: 'R', jobId: 'R.main' } });
  const refused = new Map<number, Refused>();
  const members = collectMembers([scope({ leader: null })], snapOf(forged, own), new Set(), { refused });
  assert.deepEqual([...members.keys()], [701]);
  assert.deepEqual([...refused.values()].map((r) => [r.pid, r.why, r.uid]), [[700, 'marker-other-uid', 4242]]);
  // Another uid that is tied to the job by a real mechanism (a setuid child in the session) is a member.
  const leader = proc({ pid: 500, starttime: 1000 });
  const setuidChild = proc({ pid: 502, ppid: 500, pgid: 500, sid: 500, starttime: 1002, uid: 0 });
  assert.deepEqual([...collectMembers([scope()], snapOf(leader, setuidChild), new Set()).keys()].sort(), [500, 502]);
});

test("the caller's rules apply to every process found, however it was found", () => {
  const leader = proc({ pid: 500, starttime: 1000 });
  const other = proc({ pid: 503, ppid: 500, pgid: 500, sid: 500, starttime: 1003, uid: 65534 });
  const grandchild = proc({ pid: 504, ppid: 503, pgid: 500, sid: 500, starttime: 1004 });
  const refused = new Map<number, Refused>();
  const members = collectMembers([scope()], snapOf(leader, other, grandchild), new Set(), { admit: (p) => p.uid === UID, refused });
  assert.deepEqual([...members.keys()].sort(), [500, 504]);
  assert.deepEqual([...refused.keys()], [503]);
});

test("children corral itself started (nvidia-smi during preflight) are never 'adopted' into a run", async () => {
  const helper = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.pid(helper.pid);
  await waitFor(() => readStat(helper.pid!), 'the helper');
  const snap = takeSnapshot({ cmdline: false, cgroup: false });
  const whole: JobScope = { runId: 'R', jobId: 'R', wholeRun: true, sinceTicks: 0, adopter: process.pid };
  assert.ok(!collectMembers([whole], snap, new Set([process.ppid])).has(helper.pid!), 'a child Node spawned is not adopted');
  // A process re-parented to the adopter is (here: a synthetic one, since this test is no subreaper).
  const adopted = proc({ pid: 99_999_99, ppid: process.pid, starttime: 10 });
  assert.ok(collectMembers([whole], snapOf(adopted), new Set()).has(adopted.pid));
  const id = readIdentity(helper.pid!)!;
  helper.kill('SIGKILL');
  await waitFor(() => !isAlive(id), 'the helper to die');
});
