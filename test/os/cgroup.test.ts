import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cgroupPids, createJobCgroup, findCgroup2Mount, isPopulated, killCgroup, noteCgroupEntry, removeCgroup, setUpRunCgroup, sweepStaleRunCgroups, warmCgroupMigration } from '../../src/os/cgroup.ts';
import { newRunId } from '../../src/ledger/ids.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const PURE = `28 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate`;
const V1_ONLY = `32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu`;
const BIND = `50 22 0:26 /docker/abc /sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw`;

test('the cgroup2 mount is found on pure, hybrid and v1-only systems', () => {
  assert.equal(findCgroup2Mount(PURE), '/sys/fs/cgroup');
  assert.equal(findCgroup2Mount(HYBRID), '/sys/fs/cgroup/unified');
  assert.equal(findCgroup2Mount(V1_ONLY), null);
  assert.equal(findCgroup2Mount(BIND), null, 'a mount of a sub-tree is not the hierarchy root');
});

test('CORRAL_CGROUP=off forces the fallback and says why', () => {
  const c = setUpRunCgroup('x', { CORRAL_CGROUP: 'off' });
  assert.deepEqual(c, { kind: 'none', reason: 'CORRAL_CGROUP=off' });
});

test('a real job cgroup holds a process, is killed at once with cgroup.kill, and is removed', async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  const dir = await createJobCgroup(c.runDir, 'main');
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec sleep 60`], { stdio: 'ignore' });
  t.pid(child.pid);
  await waitFor(() => cgroupPids(c.runDir).includes(child.pid!), 'the child in the cgroup');
  assert.ok(isPopulated(dir));
  assert.ok(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').includes(`corral-`));
  if (existsSync(join(dir, 'cgroup.kill'))) {
    assert.ok(killCgroup(dir));
    await waitFor(() => !isPopulated(dir), 'the cgroup to empty');
  } else {
    writeFileSync('/dev/null', '');
    child.kill('SIGKILL');
  }
  await waitFor(() => removeCgroup(c.runDir), 'the cgroup to be removable');
  assert.equal(existsSync(c.runDir), false);
});

/* Issue 9 item 12: empty run cgroups left by crashed runs are removed (rmdir only), live and populated ones stay. */
test('sweepStaleRunCgroups removes only empty corral-<runid> cgroups of runs that are over', async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  // a private parent: the machine's real leftovers (other homes' runs) are not this test's to remove
  const parent = c.runDir;
  const { mkdirSync } = await import('node:fs');
  const stale = join(parent, `corral-${newRunId()}`);
  const staleOld = join(parent, 'corral-20200101-000000-a3f9');
  const live = join(parent, `corral-${newRunId()}`);
  const busy = join(parent, `corral-${newRunId()}`);
  const other = join(parent, `corral-notarun-${process.pid}`);
  for (const d of [stale, staleOld, live, busy, other]) mkdirSync(d);
  await createJobCgroup(stale, 'x.main');
  const busyJob = await createJobCgroup(busy, 'x.main');
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${join(busyJob, 'cgroup.procs')} && exec sleep 60`], { stdio: 'ignore' });
  t.pid(child.pid);
  await waitFor(() => cgroupPids(busy).includes(child.pid!), 'the child in the busy cgroup');
  try {
    const liveId = live.slice(live.lastIndexOf('corral-') + 7);
    const removed = sweepStaleRunCgroups(parent, (id) => id === liveId);
    assert.deepEqual(removed.sort(), [stale, staleOld].sort());
    for (const d of [stale, staleOld]) assert.equal(existsSync(d), false, d);
    for (const d of [live, busy, other]) assert.ok(existsSync(d), `${d} stays`);
    assert.ok(isPopulated(busy), 'the populated one was not touched, its process not killed');
    assert.equal(sweepStaleRunCgroups(parent, () => false, 0).length, 0, 'the limit bounds the work');
  } finally {
    child.kill('SIGKILL');
    await waitFor(() => !isPopulated(busy), 'the busy cgroup to empty');
    removeCgroup(c.runDir);
  }
});

/*
 * Issue 15: before a job enters its cgroup, the supervisor moves itself into the cgroup it is already in, on
 * a worker thread, so the kernel's slow first migration is over by the time the job's shell writes its pid.
 * What is written where is checked on a stand-in directory (the write goes to the run cgroup's parent's
 * cgroup.procs); in a real cgroup, the supervisor stays where it was.
 */
test('warmCgroupMigration writes only the supervisor pid to its own cgroup.procs, once per quiet spell, and moves nothing', async (ctx) => {
  const { mkdtempSync, mkdirSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const parent = mkdtempSync(join(tmpdir(), 'corral-warm-'));
  try {
    writeFileSync(join(parent, 'cgroup.procs'), '');
    mkdirSync(join(parent, 'corral-run'));
    assert.equal(warmCgroupMigration(join(parent, 'corral-run'), 0), true);
    await waitFor(() => readFileSync(join(parent, 'cgroup.procs'), 'utf8') === String(process.pid), 'the supervisor pid in the parent cgroup.procs');
    noteCgroupEntry();
    assert.equal(warmCgroupMigration(join(parent, 'corral-run'), 60_000), false, 'a job that just entered its cgroup keeps the path warm: no second write');
    assert.equal(warmCgroupMigration(join(parent, 'missing', 'corral-run'), 0), false, 'no cgroup.procs: nothing sent, no error');
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  try {
    const before = readFileSync('/proc/self/cgroup', 'utf8');
    assert.equal(warmCgroupMigration(c.runDir, 0), true);
    await waitFor(() => readFileSync(join(c.runDir, '..', 'cgroup.procs'), 'utf8').split('\n').includes(String(process.pid)), 'this process listed in its own cgroup');
    assert.equal(readFileSync('/proc/self/cgroup', 'utf8'), before, 'the supervisor stays in its cgroup');
    assert.deepEqual(cgroupPids(c.runDir), [], 'nothing entered the run cgroup');
  } finally {
    removeCgroup(c.runDir);
  }
});

/*
 * The run's cgroup is made first thing (issue 15: so the kernel's slow first migration overlaps the rest of
 * the set-up), before the ledger is opened: a run the ledger refuses (exit 2) must take it away again.
 * corral runs inside a private parent cgroup here, so what it leaves there is its alone.
 */
test('a run that cannot open its ledger exits 2 and leaves no cgroup behind', async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  const { readdirSync } = await import('node:fs');
  const { spawnSync } = await import('node:child_process');
  const { BIN } = await import('../helpers/corral.ts');
  try {
    // the shell enters the private cgroup, then becomes corral: its runs' cgroups are made below it
    const r = spawnSync('/bin/sh', ['-c', 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"', 'sh', c.runDir, process.execPath, BIN, 'run', '--', 'true'], {
      env: { ...process.env, CORRAL_HOME: '/dev/null/home', NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(r.status, 2, r.stderr);
    assert.match(r.stderr, /refusing \/dev\/null\/home/);
    assert.deepEqual(readdirSync(c.runDir, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name), [], 'no run cgroup left in the private parent');
  } finally {
    await waitFor(() => removeCgroup(c.runDir), 'the private cgroup to be removable');
  }
});

test("setUpRunCgroup makes the known jobs' cgroups with the run's, and a job's own mkdir then finds its cgroup there", async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {}, ['main', 'sidecar1']);
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  try {
    for (const job of ['main', 'sidecar1']) assert.ok(existsSync(join(c.runDir, job, 'cgroup.procs')), `${job}'s cgroup`);
    assert.equal(await createJobCgroup(c.runDir, 'main'), join(c.runDir, 'main'));
  } finally {
    removeCgroup(c.runDir);
  }
  assert.equal(existsSync(c.runDir), false);
});
