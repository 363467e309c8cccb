import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { FIXTURES, runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readLedger } from './pool-harness.ts';
import { requireInCI } from '../helpers/skip.ts';

/*
 * The preflight check end to end, through the real binary: a stand-in NVML library (the GPU tests'
 * fake-nvml.c, named by CORRAL_NVML_LIBRARY) reports GPU 0 busy with 5.5 GiB held by a process that is
 * not the pool's, the incident's orphan. GPU 1 is idle. Needs a C compiler: skipped without one, except under CI=true, where that fails.
 */
const SKIP = requireInCI(spawnSync('cc', ['--version']).status === 0, 'a C compiler (cc) for the fake NVML library') ? false : 'no C compiler for the fake NVML library';

describe('corral pool preflight (fake NVML: GPU 0 held by another process)', { skip: SKIP, concurrency: 3 }, () => {
  const t = new Tracker();
  let libDir = '';
  let env: NodeJS.ProcessEnv = {};
  let orphan = 0;

  before(async () => {
    libDir = mkdtempSync(join(tmpdir(), 'corral-fake-nvml-'));
    const built = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-DENTRY_SIZE=24', '-o', join(libDir, 'libnvidia-ml.so.1'), join(FIXTURES, 'gpu', 'fake-nvml.c')]);
    assert.equal(built.status, 0, String(built.stderr));
    const token = t.token('preflight');
    const child = spawn('sleep', ['60'], { env: { ...process.env, TOKEN: token }, stdio: 'ignore' });
    orphan = child.pid!;
    t.pid(orphan);
    // only the stand-in library is asked: no real GPU of this machine is ever looked at, let alone reaped
    env = { CORRAL_NVML_LIBRARY: join(libDir, 'libnvidia-ml.so.1'), CORRAL_GPU_PROBES: 'nvml', FAKE_NVML_COMPUTE0: `${orphan}:5632`, CORRAL_TEST_TOKEN: token };
  });

  after(async () => {
    await waitFor(() => t.alive().filter((p) => p.pid !== orphan).length === 0, 'sentinels to exit', 5000).catch(() => {});
    const left = await t.cleanup();
    assert.deepEqual(left.map((p) => p.pid), [orphan], 'only the stand-in orphan, which the test itself started');
  });

  it('reap: the stray holding GPU 0 is reaped through corral reap\'s plan, then every task runs', async () => {
    // GPU 0 (minor 1 in the stand-in library) held through an open device node in a directory of our own
    const devDir = mkdtempSync(join(tmpdir(), 'corral-fake-dev-'));
    for (const n of ['nvidia0', 'nvidia1']) writeFileSync(join(devDir, n), '');
    const fd = openSync(join(devDir, 'nvidia1'), 'r');
    const holder = spawn('sleep', ['60'], { env: { ...process.env, TOKEN: env.CORRAL_TEST_TOKEN }, stdio: ['ignore', 'ignore', 'ignore', fd] });
    closeSync(fd); // only the holder keeps it: this process is corral's ancestor, which no reap may touch
    t.pid(holder.pid);
    const home = tempHome();
    const reapEnv = { ...env, FAKE_NVML_COMPUTE0: '', CORRAL_GPU_PROBES: 'nvml,procfs', CORRAL_GPU_DEV_DIR: devDir };
    const exited = once(holder, 'exit');
    const res = await runCorral(['pool', '--gpus', '0,1', '--preflight', 'reap', '--grace', '500ms', '--json', '--', 'true', ':::', 'a', 'b', 'c', 'd'], { env: reapEnv, home });
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, new RegExp(`preflight reap on GPU 0: stopped 1 stray process\\(es\\): ${holder.pid} \\(sleep 60\\)`));
    await exited;
    assert.equal((JSON.parse(res.stdout) as { counts: Record<string, number> }).counts.succeeded, 4);
  });

  it('warn: every task runs; one warning names the process and its memory; min-free-mem is checked', async () => {
    const res = await runCorral(['pool', '--gpus', '0,1', '--min-free-mem', '79.7GiB', '--json', '--', 'true', ':::', 'a', 'b', 'c', 'd'], { env, home: tempHome() });
    assert.equal(res.code, 0, res.stderr);
    const warnings = res.stderr.split('\n').filter((l) => l.includes('preflight warning'));
    assert.equal(warnings.filter((l) => l.includes(`pid ${orphan} (`)).length, 1, res.stderr);
    assert.match(res.stderr, /pid \d+ \(\w+, 5\.5 GiB\) sleep 60/);
    assert.match(res.stderr, /GPU 1 has 79\.6 GiB free memory, --min-free-mem wants 79\.7 GiB; starting anyway/);
  });

  it('fail: the task that met the busy GPU fails with the reason, the GPU gets no more tasks, GPU 1 runs the rest', async () => {
    const home = tempHome();
    const res = await runCorral(['pool', '--gpus', '0,1', '--preflight', 'fail', '--json', '--', 'true', ':::', 'a', 'b', 'c', 'd'], { env, home });
    assert.equal(res.code, 1, res.stderr);
    const out = JSON.parse(res.stdout) as { tasks: { state: string; reason: string | null; gpu: number | null }[]; counts: Record<string, number> };
    const refused = out.tasks.filter((x) => x.reason === 'preflight');
    assert.equal(refused.length, 1);
    assert.equal(refused[0]!.gpu, 0);
    assert.equal(out.counts.succeeded, 3);
    assert.ok(out.tasks.filter((x) => x.state === 'succeeded').every((x) => x.gpu === 1));
    const job = readLedger(home).jobs.find((j) => j.stop_reason === 'preflight')!;
    assert.equal(job.state, 'failed');
    assert.match(res.stderr, /no more tasks go to GPU 0/);
  });

  it('wait: tasks for GPU 0 wait (GPU 1 works on); Ctrl-C ends the wait and the waiting tasks never start', async () => {
    const home = tempHome();
    const corral = startCorral(['pool', '--gpus', '0,1', '--preflight', 'wait', '--json', '--', 'true', ':::', 'a', 'b', 'c', 'd'], { env, home });
    t.pid(corral.child.pid);
    await waitFor(() => readLedger(home).jobs.filter((j) => j.state === 'succeeded').length === 3, 'GPU 1 to run three tasks', 20_000, 50);
    assert.match(corral.output(), /waiting for GPU 0: 1 other process/);
    const exited = once(corral.child, 'exit');
    corral.child.kill('SIGINT');
    await exited;
    const res = await corral.done;
    assert.equal(res.code, 130, res.stderr);
    const out = JSON.parse(res.stdout) as { counts: Record<string, number> };
    assert.equal(out.counts.notStarted, 1);
    assert.equal(readLedger(home).jobs.length, 3, 'the waiting task has no job: it never started');
  });
});
