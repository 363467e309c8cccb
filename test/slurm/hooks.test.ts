import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isAlive, type Identity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { FIXTURES } from '../gpu/gpu-fixtures.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { requireInCI } from '../helpers/skip.ts';

// Everything here is marked with a cluster name of its own: the hooks match SLURM_JOB_ID *and*
// SLURM_CLUSTER_NAME, so no other process on the machine can be taken for these jobs.
const t = new Tracker();
/** processes a test leaves alive on purpose (the hooks must not touch them); cleanup kills them */
const bystanders = new Set<number>();
const cluster = t.token('cluster');
let devDir = '';
before(() => {
  devDir = mkdtempSync(join(tmpdir(), 'corral-slurm-dev-'));
  for (const n of ['nvidia0', 'nvidia1']) writeFileSync(join(devDir, n), '');
});
after(async () => {
  const left = await t.cleanup();
  rmSync(devDir, { recursive: true, force: true });
  assert.deepEqual(left.map((l) => l.pid).filter((p) => !bystanders.has(p)), [], 'a test process outlived its test');
});

const uid = String(process.getuid!());
const hookEnv = (job: string, gpus: string, extra: NodeJS.ProcessEnv = {}) => ({
  SLURM_JOB_ID: job, SLURM_JOB_UID: uid, SLURM_JOB_GPUS: gpus, SLURM_CLUSTER_NAME: cluster,
  CORRAL_GPU_DEV_DIR: devDir, CORRAL_GPU_PROBES: 'procfs', ...extra,
});

/** A job's orphan as proctrack/linuxproc loses it: setsid, its parent gone, Slurm's variables in its environment. */
async function leaveOrphan(job: string, clusterName = cluster): Promise<Identity> {
  const token = t.token('orphan');
  const sh = spawn('setsid', ['sh', '-c', `sleep 300 >/dev/null 2>&1 & echo $!`], {
    env: { ...process.env, SLURM_JOB_ID: job, SLURM_CLUSTER_NAME: clusterName, TOKEN: token }, stdio: ['ignore', 'pipe', 'ignore'],
  });
  let out = '';
  sh.stdout!.on('data', (d: Buffer) => (out += d));
  await new Promise((r) => sh.once('close', r));
  const pid = Number(out.trim());
  t.pid(pid);
  return { pid, starttime: readStat(pid)!.starttime };
}

function holdGpu(minor: number, env: NodeJS.ProcessEnv = {}): Identity {
  const fd = openSync(join(devDir, `nvidia${minor}`), 'r');
  const child = spawn('sleep', ['300'], { env: { ...process.env, ...env, TOKEN: t.token('holder') }, stdio: ['ignore', 'ignore', 'ignore', fd] });
  closeSync(fd);
  t.pid(child.pid);
  return { pid: child.pid!, starttime: readStat(child.pid!)!.starttime };
}

test('epilog: reaps the orphan that carries the job, leaves the same job id of another cluster and another job alone', async () => {
  const orphan = await leaveOrphan('41');
  const otherCluster = await leaveOrphan('41', `${cluster}x`);
  const otherJob = await leaveOrphan('42');
  const res = await runCorral(['slurm', 'epilog', '--grace', '1s'], { env: hookEnv('41', ''), home: tempHome() });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout, new RegExp(`job 41: reaped 1 process\\(es\\).*${orphan.pid} sleep 300 \\[slurm-env\\]`));
  await waitFor(() => !isAlive(orphan), 'the orphan to be gone');
  assert.ok(isAlive(otherCluster) && isAlive(otherJob), 'only the job of this cluster is reaped');
  bystanders.add(otherCluster.pid).add(otherJob.pid);
});

test("epilog: reaps the job uid's holder of the job's GPU, not the holder of another GPU", async () => {
  const mine = holdGpu(0);
  const other = holdGpu(1);
  const res = await runCorral(['slurm', 'epilog', '--grace', '1s', '--json'], { env: hookEnv('43', '0'), home: tempHome() });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  const out = JSON.parse(res.stdout) as { found: { pid: number; via: string }[]; problems: string[] };
  assert.deepEqual(out.found.map((f) => [f.pid, f.via]), [[mine.pid, 'gpu']]);
  assert.deepEqual(out.problems, []);
  assert.ok(!isAlive(mine) && isAlive(other));
  bystanders.add(other.pid);
});

test("epilog: another job's process on the job's GPU is not killed; the GPU stays held, so exit 1", async () => {
  const other = holdGpu(0, { SLURM_JOB_ID: '99', SLURM_CLUSTER_NAME: cluster });
  const res = await runCorral(['slurm', 'epilog', '--gpu-wait', '300ms', '--no-drain'], { env: hookEnv('48', '0'), home: tempHome() });
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout, new RegExp(`job 48: nothing of the job left[\\s\\S]*GPU minor 0: pid ${other.pid} .*still holds the job's GPU`));
  assert.ok(isAlive(other));
  // GPU 0 must be free again for the prolog test below
  if (readStat(other.pid)?.starttime === other.starttime) process.kill(other.pid, 'SIGKILL');
  await waitFor(() => !isAlive(other), 'the other job\'s holder to be gone');
});

test('epilog: a GPU that does not come free (NVML names a process that is not here) exits 1 and says why', async () => {
  const lib = join(devDir, 'libnvidia-ml.so.1'); // removed with devDir
  const built = spawnSync('cc', ['-shared', '-fPIC', '-O1', '-DENTRY_SIZE=24', '-o', lib, join(FIXTURES, 'fake-nvml.c')]);
  if (!requireInCI(built.status === 0 || null, 'the fake NVML library (cc)')) return;
  const env = hookEnv('44', '0', { CORRAL_NVML_LIBRARY: lib, CORRAL_GPU_PROBES: 'nvml', FAKE_NVML_COMPUTE0: '4194000:2048' });
  const res = await runCorral(['slurm', 'epilog', '--gpu-wait', '300ms', '--no-drain'], { env, home: tempHome() });
  assert.equal(res.code, 1, res.stdout + res.stderr);
  assert.match(res.stdout, /job 44: GPU 0: pid 4194000 \(not a process on this node.*2\.0GiB still holds the job's GPU/);
});

test('prolog: a held GPU fails the job start, a free one passes', async () => {
  const holder = holdGpu(1);
  const held = await runCorral(['slurm', 'prolog', '--gpu-wait', '200ms', '--no-drain'], { env: hookEnv('45', '0-1'), home: tempHome() });
  assert.equal(held.code, 1, held.stdout + held.stderr);
  assert.match(held.stdout, new RegExp(`job 45: GPU minor 1: pid ${holder.pid} \\(uid ${uid}\\) sleep 300, \\? is on a GPU allocated to this job`));
  assert.ok(isAlive(holder), 'the prolog only looks');
  bystanders.add(holder.pid);
  const free = await runCorral(['slurm', 'prolog'], { env: hookEnv('46', '0'), home: tempHome() });
  assert.equal(free.code, 0, free.stdout + free.stderr);
  assert.match(free.stdout, /job 46: GPU 0 free/);
});

test('a hook run by hand (no SLURM_JOB_ID) is a usage error naming slurm.conf', async () => {
  const env = { SLURM_JOB_ID: '', SLURM_JOBID: '' };
  const res = await runCorral(['slurm', 'epilog'], { env, home: tempHome() });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /SLURM_JOB_ID is not set[\s\S]*slurm\.conf/);
  const bad = await runCorral(['slurm', 'prolog'], { env: hookEnv('47', 'GPU-abc') });
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /not a list of GPU indexes/);
});
