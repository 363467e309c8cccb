import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setChildSubreaper } from '../../src/os/ffi.ts';
import { ticksNow } from '../../src/proc/clock.ts';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { teardown } from '../../src/supervise/teardown.ts';
import { FIXTURES } from '../helpers/corral.ts';
import { findByToken, runsPython, Tracker, waitFor } from '../helpers/procs.ts';

// As corral run is: a child subreaper, the parent of the job's leader. That is when the leader's group
// is signalled before the teardown's first /proc scan.
setChildSubreaper();
const t = new Tracker();
const dir = mkdtempSync(join(tmpdir(), 'corral-teardown-first-'));
after(async () => {
  assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left');
  rmSync(dir, { recursive: true, force: true });
});

/** A job leader in its own session and group (as spawnJob makes it) running a bash script. */
function startLeader(script: string, ...args: string[]) {
  const file = join(dir, `leader-${args[0]}.sh`);
  writeFileSync(file, script);
  const child = spawn('bash', [file, ...args], { detached: true, stdio: 'ignore' });
  t.pid(child.pid);
  return child;
}

test('a member outside the group whose parent the early group signal kills is adopted and torn down with the job', async () => {
  const token = t.token('orphan');
  // leader -> mid (same group) -> a process in a session of its own with no markers (env -i): once mid
  // dies it is found neither by session nor by descent, only as an orphan re-parented to this process.
  const leaderProc = startLeader(
    `bash -c 'setsid env -i /bin/bash -c "exec -a \\"\\$0\\" sleep 1000" "$0" & exec -a "$0-mid" sleep 1000' "$2" &\nexec sleep 1000\n`,
    'a', token,
  );
  const outside = await waitFor(() => {
    const o = findByToken(token).find((p) => p.cmd === `${token} 1000`);
    const st = o && readStat(o.pid);
    return st && st.sid === o.pid && findByToken(`${token}-mid`).length === 1 && readStat(leaderProc.pid!)?.comm === 'sleep' ? o : null;
  }, 'the leader, mid and the process in its own session');
  const mid = findByToken(`${token}-mid`)[0]!;
  assert.equal(readStat(mid.pid)?.pgid, leaderProc.pid, 'mid is in the leader group');
  assert.equal(readStat(outside.pid)?.ppid, mid.pid, 'the outside process is a child of mid');
  const leader = readIdentity(leaderProc.pid!)!;
  const res = await teardown([{ runId: 'R', jobId: 'R.main', leader, sinceTicks: ticksNow() - 1000, soleJob: true }], { graceMs: 5000 });
  assert.ok(!isAlive(outside), 'the process outside the group is gone');
  assert.ok(res.members.some((m) => m.pid === outside.pid && m.starttime === outside.starttime), 'it was a member of the job');
  assert.ok(!res.escalated, 'it got the stop signal within the grace period, not only SIGKILL');
  assert.deepEqual(res.leftovers, []);
});

test('an excluded process in the leader group (a sentinel) keeps the group signal from going first', async () => {
  const log = join(dir, 'terms');
  const leaderProc = startLeader(`python3 "$2" "$3" &\nexec sleep 1000\n`, 'b', join(FIXTURES, 'term-witness.py'), log);
  const witness = await waitFor(() => {
    const st = readStat(leaderProc.pid!);
    if (st?.comm !== 'sleep') return null;
    const kids = findByToken(log).filter((p) => runsPython(p.pid));
    return kids.length === 1 ? kids[0] : null;
  }, 'the witness in the leader group');
  t.pid(witness.pid);
  const leader = readIdentity(leaderProc.pid!)!;
  const res = await teardown([{ runId: 'R', jobId: 'R.main', leader, sinceTicks: ticksNow() - 1000, soleJob: true }], { graceMs: 5000, exclude: [witness.pid] });
  assert.ok(!isAlive(leader), 'the leader is gone');
  assert.ok(isAlive(witness), 'the excluded process is alive');
  assert.equal(existsSync(log) ? readFileSync(log, 'utf8') : '', '', 'the excluded process never received the stop signal');
  assert.ok(!res.members.some((m) => m.pid === witness.pid));
  process.kill(witness.pid, 'SIGKILL');
  await waitFor(() => !isAlive(witness), 'the witness to go');
});

test("in a run of several jobs without cgroups, one job's teardown takes no unmarked orphan: it could be another job's", async () => {
  const token = t.token('other');
  const leaderProc = startLeader('exec sleep 1000\n', 'c');
  await waitFor(() => readStat(leaderProc.pid!)?.comm === 'sleep', 'the leader');
  // An orphan with no markers, adopted by this process (a subreaper) after the leader started: in a pool
  // it would be another task's daemon (env -i, its own session), whose parent has already exited.
  const starter = spawn('bash', ['-c', `setsid -f env -i /bin/bash -c 'exec -a "$0" sleep 1000' ${token}`], { stdio: 'ignore' });
  await new Promise((resolve) => starter.once('exit', resolve));
  const orphan = await waitFor(() => findByToken(token).find((p) => readStat(p.pid)?.ppid === process.pid), 'the adopted orphan');
  t.pid(orphan.pid);
  const leader = readIdentity(leaderProc.pid!)!;
  const res = await teardown([{ runId: 'R', jobId: 'R.c', leader, sinceTicks: ticksNow() - 1000 }], { graceMs: 2000 });
  assert.ok(!isAlive(leader), 'the leader is gone');
  assert.ok(isAlive(orphan), 'the unmarked orphan is alive');
  assert.ok(!res.members.some((m) => m.pid === orphan.pid));
  process.kill(orphan.pid, 'SIGKILL');
  await waitFor(() => !isAlive(orphan), 'the orphan to go');
});
