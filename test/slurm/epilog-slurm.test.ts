import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.ts';

// The hooks as slurm.conf names them (Prolog=, Epilog= wrappers running this checkout's corral),
// under a real slurmd with proctrack/linuxproc, which loses a job's setsid'd orphans.
const missing = slurmMissing();
const t = new Tracker();
let c: SlurmCluster | undefined;
before(async () => {
  if (!missing) c = await startSlurmCluster({ hooks: true, hookEnv: { CORRAL_HOME: tempHome() } });
});
after(async () => {
  const left = await t.cleanup();
  await c?.stop();
  assert.deepEqual(left, [], 'a process of the test outlived it');
});

const jobState = (id: string) => /JobState=(\w+)/.exec(c!.cmd('scontrol', ['show', 'job', id]))?.[1];
const nodeLine = () => c!.cmd('scontrol', ['show', 'node', c!.host]);

test('the epilog slurm.conf names reaps the orphan a job left behind, and the node stays up', async (ctx) => {
  if (missing || !c) return skipOrFail(ctx, missing ?? 'no cluster');
  const out = join(c.dir, 'orphan.out');
  const id = c.cmd('sbatch', ['--parsable', '--gres=gpu:1', '-o', out, '--wrap', 'setsid sleep 300 </dev/null >/dev/null 2>&1 & echo "orphan $!"']).trim();
  await waitFor(() => jobState(id) === 'COMPLETED', 'the job to complete', 30_000, 100);
  const pid = Number(/orphan (\d+)/.exec(readFileSync(out, 'utf8'))![1]);
  await waitFor(() => /reaped/.test(readFileSync(c!.hookLog, 'utf8')), 'the epilog to run', 30_000, 100);
  assert.match(readFileSync(c.hookLog, 'utf8'), new RegExp(`job ${id}: reaped 1 process\\(es\\) the job left behind: ${pid} sleep 300 \\[slurm-env\\]`));
  await waitFor(() => readStat(pid)?.state === undefined || !/sleep/.test(readFileSync(`/proc/${pid}/cmdline`, 'latin1')), 'the orphan to be gone', 10_000);
  assert.match(nodeLine(), /State=IDLE /);
});

test('the prolog fails a job whose GPU is held: Slurm drains the node with corral\'s reason', async (ctx) => {
  if (missing || !c) return skipOrFail(ctx, missing ?? 'no cluster');
  const fd = openSync(join(c.devDir, 'nvidia1'), 'r');
  // Another uid than the job's (root): Slurm runs the epilog for the job the prolog failed, and the epilog
  // reaps the job uid's holders of the job's GPUs, so a root holder could be gone before the check below.
  const holder = spawn('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sleep', '300'], { stdio: ['ignore', 'ignore', 'ignore', fd] });
  closeSync(fd);
  t.pid(holder.pid);
  const id = c.cmd('sbatch', ['--parsable', '--gres=gpu:2', '-o', '/dev/null', '--wrap', 'true']).trim();
  await waitFor(() => /State=\S*DRAIN/.test(nodeLine()), 'the node to be drained', 30_000, 100);
  assert.match(nodeLine(), new RegExp(`Reason=corral prolog job ${id}: GPU minor 1: pid ${holder.pid}`));
  assert.notEqual(jobState(id), 'COMPLETED', 'the job did not run on the held GPU');
  assert.ok(isAlive({ pid: holder.pid!, starttime: readStat(holder.pid!)!.starttime }), 'the prolog only looks');
  holder.kill('SIGKILL');
  c.cmd('scancel', [id]);
});
