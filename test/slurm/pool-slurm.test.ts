import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { after, before, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { slurmMissing, startSlurmCluster, type SlurmCluster } from '../helpers/slurm-cluster.ts';

// corral pool --slurm against a real one-node Slurm with two stand-in GPUs as gres.
const missing = slurmMissing();
const t = new Tracker();
let c: SlurmCluster | undefined;
before(async () => {
  if (!missing) c = await startSlurmCluster();
});
const dirs: string[] = [];
const tempDir = (label: string) => {
  const d = mkdtempSync(join(tmpdir(), `corral-slurm-${label}-`));
  dirs.push(d);
  return d;
};
after(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  // the node-side corral runs' sentinels exit a moment after their jobs: give them that moment
  await waitFor(() => t.alive().length === 0, 'the tasks\' sentinels to exit', 10_000).catch(() => {});
  const left = await t.cleanup();
  await c?.stop();
  assert.deepEqual(left, [], 'a process of the test outlived it');
});

function writePool(yaml: string): string {
  const dir = tempDir('pool');
  writeFileSync(join(dir, 'pool.yaml'), yaml);
  return join(dir, 'pool.yaml');
}

/** The pool's Slurm jobs still queued or running, by the job name corral gives every job of a run. */
const liveJobs = () => c!.cmd('squeue', ['-h', '-o', '%j %T']).split('\n').filter((l) => l.startsWith('corral-'));

interface PoolJson { counts: Record<string, number>; tasks: { name: string; state: string; status: number; reason: string; attempts: number }[] }

test('a sample -> evaluate pool over 2 GPUs: one task fails (and is retried), one hangs past its timeout', async (ctx) => {
  if (missing || !c) return skipOrFail(ctx, missing ?? 'no cluster');
  const token = t.token('pool');
  const pool = writePool(`name: slurm-pool
gpus: 0-1
grace: 1s
items: [a, bad, slow]
stages:
  - name: sample
    run: 'if [ {} = bad ]; then echo "sample {} fails"; exit 3; fi; echo "sample {} gpu=$CUDA_VISIBLE_DEVICES job=$SLURM_JOB_ID run=$CORRAL_RUN_ID"'
    retries: 1
    backoff: 100ms
  - name: evaluate
    needs: [sample]
    run: 'if [ {} = slow ]; then sleep 300; fi; echo "evaluate {}"'
    timeout: 2s
`);
  const home = tempHome();
  const res = await runCorral(['pool', pool, '--slurm', '--json'], { env: { ...c.env, TOKEN: token }, home });
  assert.equal(res.code, 1, res.stderr);
  // the progress lines of a local pool, retry included
  assert.match(res.stderr, /retry sample\.2 \(bad\): attempt 1 exited with status 3 \(Slurm job \d+\); attempt 2 in/);
  const out = JSON.parse(res.stdout) as PoolJson;
  const byName = Object.fromEntries(out.tasks.map((x) => [x.name, x]));
  assert.equal(byName['sample.1']!.state, 'succeeded');
  assert.deepEqual([byName['sample.2']!.state, byName['sample.2']!.status, byName['sample.2']!.attempts], ['failed', 3, 2], 'retried once: two submissions');
  assert.equal(byName['evaluate.2']!.state, 'skipped');
  assert.deepEqual([byName['evaluate.3']!.state, byName['evaluate.3']!.reason, byName['evaluate.3']!.status], ['failed', 'timeout', 124]);
  assert.equal(byName['evaluate.1']!.state, 'succeeded');
  // each task ran under corral run on the node, on a GPU Slurm gave it
  const logs = await runCorral(['logs', 'last'], { home });
  assert.match(logs.stdout, /sample a gpu=[01] job=\d+ run=\S+/);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const submits = db.prepare("SELECT count(*) AS n FROM events WHERE kind = 'slurm-submit'").get() as { n: number };
  const attempts = db.prepare('SELECT count(*) AS n FROM attempts').get() as { n: number };
  db.close();
  assert.deepEqual([submits.n, attempts.n], [6, 6], 'one sbatch and one attempt per try: 3 samples (one retried), 2 evaluations');
  assert.deepEqual(liveJobs(), []);
  await waitFor(() => findByToken(token).length === 0, 'every process of the tasks to be gone', 10_000);
});

test('Ctrl-C cancels the pool\'s jobs, and --resume --slurm runs what did not finish', async (ctx) => {
  if (missing || !c) return skipOrFail(ctx, missing ?? 'no cluster');
  const token = t.token('intr');
  const dir = tempDir('go');
  const pool = writePool(`gpus: 0-1
items: [x, y]
stages:
  - name: work
    run: 'if [ -e ${dir}/go ]; then echo "done {}"; else sleep 300; fi'
`);
  const home = tempHome();
  const p = startCorral(['pool', pool, '--slurm', '-q'], { env: { ...c.env, TOKEN: token }, home });
  t.pid(p.child.pid);
  await waitFor(() => liveJobs().filter((l) => l.endsWith('RUNNING')).length === 2, 'both tasks running on Slurm', 30_000, 100);
  await waitFor(() => findByToken(token).some((x) => x.cmd.startsWith('sleep 300')), 'the tasks to start on the node', 20_000);
  p.child.kill('SIGINT');
  // bounded: a pool whose jobs were never cancelled would wait for them (sleep 300)
  const res = await Promise.race([p.done, waitFor(() => false, 'corral to end after Ctrl-C', 60_000).then(() => p.done)]);
  assert.equal(res.code, 130, res.stderr);
  await waitFor(() => liveJobs().length === 0, 'the jobs to be cancelled', 20_000, 100);
  await waitFor(() => findByToken(token).length === 0, "the jobs' processes to be gone", 20_000);
  writeFileSync(join(dir, 'go'), '');
  const again = await runCorral(['pool', '--resume', 'last', '--slurm', '--json', '-q'], { env: { ...c.env, TOKEN: token }, home });
  assert.equal(again.code, 0, again.stderr);
  assert.equal((JSON.parse(again.stdout) as PoolJson).counts.succeeded, 2);
});

test('a SIGKILLed corral: its canceller cancels the pool\'s jobs', async (ctx) => {
  if (missing || !c) return skipOrFail(ctx, missing ?? 'no cluster');
  const token = t.token('kill');
  const pool = writePool(`jobs: 2
items: [p, q]
stages:
  - name: work
    run: sleep 300
`);
  const p = startCorral(['pool', pool, '--slurm', '-q'], { env: { ...c.env, TOKEN: token }, home: tempHome() });
  t.pid(p.child.pid);
  await waitFor(() => liveJobs().filter((l) => l.endsWith('RUNNING')).length === 2, 'both tasks running on Slurm', 30_000, 100);
  p.child.kill('SIGKILL');
  await p.done;
  await waitFor(() => liveJobs().length === 0, 'the canceller to scancel the jobs', 20_000, 100);
  await waitFor(() => findByToken(token).length === 0, "the jobs' processes to be gone", 20_000);
});
