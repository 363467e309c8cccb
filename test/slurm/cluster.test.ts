import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { skipOrFail } from '../helpers/skip.ts';
import { findByToken, waitFor } from '../helpers/procs.ts';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.ts';

let cluster: SlurmCluster | undefined;
const missing = slurmMissing();
before(async () => {
  if (!missing) cluster = await startSlurmCluster();
});
after(async () => {
  await cluster?.stop();
});

test('the test cluster runs a job on a stand-in GPU and leaves nothing behind when stopped', async (t) => {
  if (missing || !cluster) return skipOrFail(t, missing ?? 'no cluster');
  const c = cluster;
  const out = join(c.dir, 'job.out');
  const id = c.cmd('sbatch', ['--parsable', '--gres=gpu:1', '-o', out, '--wrap', 'echo "gpus=$SLURM_JOB_GPUS cuda=$CUDA_VISIBLE_DEVICES"']).trim();
  assert.match(id, /^\d+$/);
  await waitFor(() => /JobState=COMPLETED/.test(c.cmd('scontrol', ['show', 'job', id])), 'the job to complete', 20_000, 100);
  assert.match(readFileSync(out, 'utf8'), /gpus=[01] cuda=[01]/);
  const dir = c.dir;
  await c.stop();
  cluster = undefined;
  assert.deepEqual(findByToken(dir), [], 'a daemon or job of the cluster survived stop()');
});
