import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { PoolSlot, PoolStage } from '../../src/config/pool-spec.ts';
import { parseGpuIndexes, readSlurmJob } from '../../src/slurm/job-env.ts';
import { parseJobLine } from '../../src/slurm/job-watch.ts';
import { outcomeOf } from '../../src/slurm/pool-backend.ts';
import { sbatchArgs, slurmTimeLimit } from '../../src/slurm/sbatch-args.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';

const stage: PoolStage = { name: 'sample', needs: [], run: { kind: 'argv', argv: ['python3', 'x.py'] }, cwd: '/work', env: {}, timeoutMs: 90_000, retries: 0, backoffMs: 1000, backoffMaxMs: null, stopSignal: 'SIGTERM', graceMs: 10_000 };
const gpuSlot: PoolSlot = { index: 0, gpu: 1 } as PoolSlot;

test('sbatch gets gres for a GPU slot, a minute-rounded backstop time limit, the run as job name, user arguments last', () => {
  const args = sbatchArgs('RUN1', 'sample.3', stage, gpuSlot, ['python3', 'x.py', 'it em'], '/h/logs/RUN1/sample.3.log', { partition: 'gpu', account: 'lab', extraArgs: ['--mem=8G'] });
  assert.deepEqual(args.slice(0, 10), ['--parsable', '--job-name=corral-RUN1', '--comment=sample.3', '--output=/h/logs/RUN1/sample.3.log', '--open-mode=append', '--chdir=/work', '--gres=gpu:1', '--time=3', '--partition=gpu', '--account=lab']);
  assert.deepEqual(args.slice(10, 12), ['--mem=8G', '--wrap']);
  assert.match(args[12]!, /exec .*corral\.js run --name sample\.3 --grace 10000ms --stop-signal SIGTERM --timeout 90000ms -- python3 x\.py 'it em'$/);
  assert.equal(sbatchArgs('R', 't.1', { ...stage, timeoutMs: null }, { index: 0, gpu: null } as PoolSlot, ['true'], '/l', { extraArgs: [] }).some((a) => a.startsWith('--gres') || a.startsWith('--time')), false);
  assert.equal(slurmTimeLimit(50_000, 10_000), '2');
});

test("Slurm's job line becomes the task's end: exit code, timeout, launch failure, our own cancel", () => {
  assert.equal(parseJobLine('JobId=7 JobState=RUNNING Reason=None ExitCode=0:0'), null);
  const end = (line: string) => parseJobLine(line)!;
  assert.deepEqual(outcomeOf(end('JobId=7 JobState=COMPLETED Reason=None ExitCode=0:0'), null).state, 'succeeded');
  assert.deepEqual(outcomeOf(end('JobId=7 JobState=FAILED Reason=NonZeroExitCode ExitCode=3:0'), null), { state: 'failed', exitCode: 3, signal: null, reason: 'exited', status: 3 });
  assert.equal(outcomeOf(end('JobId=7 JobState=FAILED Reason=NonZeroExitCode ExitCode=124:0'), null).reason, 'timeout');
  assert.equal(outcomeOf(end('JobId=7 JobState=TIMEOUT Reason=TimeLimit ExitCode=0:15'), null).status, 124);
  assert.equal(outcomeOf(end('JobId=7 JobState=FAILED Reason=JobLaunchFailure ExitCode=0:53'), null).reason, 'spawn-failed');
  assert.equal(outcomeOf(end('JobId=7 JobState=CANCELLED Reason=None ExitCode=0:15'), 'signal').state, 'stopped');
  assert.equal(outcomeOf(end('JobId=7 JobState=CANCELLED Reason=None ExitCode=0:15'), null).state, 'failed', 'cancelled by someone else: not resumable as ours');
});

test("the hooks read the job from Slurm's variables; GPU lists take ranges and refuse UUIDs", () => {
  assert.deepEqual(parseGpuIndexes('0-2,5'), [0, 1, 2, 5]);
  assert.equal(parseGpuIndexes('GPU-1234'), null);
  assert.deepEqual(readSlurmJob({ SLURM_JOB_ID: '9', SLURM_JOB_UID: '1000', CUDA_VISIBLE_DEVICES: '1', SLURM_CLUSTER_NAME: 'c' }), { id: '9', uid: 1000, gpus: [1], cluster: 'c' });
  assert.throws(() => readSlurmJob({ SLURM_JOB_ID: '9' }), /SLURM_JOB_UID is not set/);
});

test('Slurm flags without --slurm, and sbatch arguments corral sets itself, are usage errors', async () => {
  const home = tempHome();
  const a = await runCorral(['pool', '--jobs', '1', '--partition', 'gpu', '--', 'true', ':::', 'x'], { home });
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--partition is for a pool run on Slurm\s+add --slurm/);
  const b = await runCorral(['pool', '--jobs', '1', '--slurm', '--slurm-arg=--wrap=x', '--', 'true', ':::', 'x'], { home, env: { PATH: `${process.env.PATH}:/usr/bin` } });
  assert.equal(b.code, 2);
  assert.match(b.stderr, /corral sets this itself|needs Slurm's client commands/);
});
