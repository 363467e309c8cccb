import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { newRunId } from '../../src/ledger/ids.ts';
import { cgroupPids, createJobCgroup, removeCgroup, setUpRunCgroup } from '../../src/os/cgroup.ts';
import { ticksNow } from '../../src/proc/clock.ts';
import { isAlive, readIdentity, type Identity } from '../../src/proc/identity.ts';
import { takeSnapshot } from '../../src/proc/snapshot.ts';
import { teardown } from '../../src/supervise/teardown.ts';
import { FIXTURES } from '../helpers/corral.ts';
import { runsPython, Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

const WITNESS = join(FIXTURES, 'term-witness.py');
const termsIn = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean).length : 0);

test('a group-wide signal is not sent when the group holds a process the rules refuse: members go one by one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-teardown-'));
  const log = join(dir, 'terms');
  // A session leader (as corral starts a job) with a plain child and a witness in its group.
  const leaderProc = spawn('sh', ['-c', `python3 "$0" "$1" & sleep 1000 & wait`, WITNESS, log], { detached: true, stdio: 'ignore' });
  t.pid(leaderProc.pid);
  const kids = await waitFor(() => {
    const k = [...takeSnapshot().values()].filter((p) => p.ppid === leaderProc.pid && p.comm !== 'sh');
    return k.length === 2 && k.some((p) => runsPython(p.pid)) ? k : null;
  }, 'the witness (the interpreter itself) and the sleep in the leader group');
  for (const k of kids) t.pid(k.pid);
  const witness = kids.find((p) => runsPython(p.pid))!;
  const sleeper = kids.find((p) => p !== witness)!;
  const leader = readIdentity(leaderProc.pid!)!;
  const res = await teardown([{ runId: 'R', jobId: 'R.main', leader, sinceTicks: ticksNow() - 1000 }], {
    graceMs: 5000, admit: (p) => p.pid !== witness.pid,
  });
  assert.ok(!isAlive(leader) && !isAlive(sleeper), 'the members are gone');
  assert.ok(isAlive(witness), 'the refused process is alive');
  assert.equal(termsIn(log), 0, 'the refused process never received the stop signal');
  assert.deepEqual(res.refused.map((r) => r.pid), [witness.pid]);
  assert.ok(!res.members.some((m) => m.pid === witness.pid));
  process.kill(witness.pid, 'SIGKILL');
  await waitFor(() => !isAlive(witness), 'the witness to go');
});

test('cgroup.kill is not used while the cgroup holds a refused process; members are SIGKILLed one by one', async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  const job = await createJobCgroup(c.runDir, 'main');
  const dir = mkdtempSync(join(tmpdir(), 'corral-teardown-'));
  const log = join(dir, 'terms');
  const enter = (script: string, ...args: string[]) => {
    const child = spawn('/bin/sh', ['-c', `echo $$ > "$0/cgroup.procs" && exec ${script}`, job, ...args], { detached: true, stdio: 'ignore' });
    t.pid(child.pid);
    return child;
  };
  const witness = enter('python3 "$1" "$2"', WITNESS, log);
  const stubborn = enter(`sh -c 'trap "" TERM; while :; do sleep 1; done'`);
  // wait for the interpreter itself (a pyenv shim runs helpers first, which would be members)
  await waitFor(() => runsPython(witness.pid!) && cgroupPids(job).length === 3, 'both in the cgroup, the witness running python');
  const ids = [readIdentity(witness.pid!)!, readIdentity(stubborn.pid!)!] as Identity[];
  const res = await teardown([{ runId: 'R', jobId: 'R.main', cgroup: job, sinceTicks: ticksNow() - 1000 }], {
    graceMs: 300, unkillableMs: 5000, admit: (p) => p.pid !== witness.pid,
  });
  assert.ok(res.escalated, 'the TERM-ignoring member needed SIGKILL');
  assert.ok(!isAlive(ids[1]!), 'the stubborn member is gone');
  assert.ok(isAlive(ids[0]!), 'the refused process in the same cgroup is alive');
  assert.equal(termsIn(log), 0);
  assert.deepEqual(res.leftovers, []);
  process.kill(witness.pid!, 'SIGKILL');
  await waitFor(() => !isAlive(ids[0]!), 'the witness to go');
  await waitFor(() => removeCgroup(c.runDir), 'the cgroup to be removable');
});
