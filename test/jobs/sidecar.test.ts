import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import type { JobRow } from '../../src/ledger/jobs.ts';
import type { RunRow } from '../../src/ledger/runs.ts';
import { FIXTURES, startCorral, tempHome, type CorralResult } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

/*
 * The incident's parallel experiment as one command: a foreground trainer with a background training
 * loop beside it. However the trainer ends, the loop (and the setsid grandchild each round leaves)
 * must be gone within the grace period, and corral's exit status is the trainer's.
 */
const DIR = join(FIXTURES, 'pool', 'sidecar');
const INCIDENT = ['--gpus', '0', '--sidecar', 'bash background.sh', '--sidecar-restart', 'always', '--', 'python3', 'train.py'];

interface Outcome {
  res: CorralResult;
  run: RunRow;
  main: JobRow;
  sidecar: JobRow;
  /** token-carrying processes alive the moment corral exited, its sentinel left out */
  survivors: number[];
  state: string;
  attemptsOfSidecar: number;
}

async function runIncident(flags: string[], env: Record<string, string> = {}): Promise<Outcome> {
  const t = new Tracker();
  const token = t.token('sidecar');
  const home = tempHome();
  const state = mkdtempSync(join(tmpdir(), 'corral-sidecar-'));
  const corral = startCorral(['run', ...flags, ...INCIDENT], { env: { CORRAL_TEST_TOKEN: token, SIDECAR_STATE: state, ...env }, home, cwd: DIR });
  t.pid(corral.child.pid);
  try {
    const res = await corral.done;
    const db = openLedger(join(home, 'ledger.sqlite'));
    const run = db.prepare('SELECT * FROM runs').get() as unknown as RunRow;
    const jobs = db.prepare('SELECT * FROM jobs WHERE run_id = ?').all(run.id) as unknown as JobRow[];
    const attempts = db.prepare("SELECT COUNT(*) AS n FROM attempts WHERE job_id LIKE '%.sidecar1'").get() as { n: number };
    db.close();
    const survivors = t.alive().filter((p) => p.pid !== run.sentinel_pid).map((p) => p.pid);
    // the sentinel leaves once it has read the clean mark
    await waitFor(() => t.alive().length === 0, 'the sentinel to exit', 5000).catch(() => {});
    return { res, run, main: jobs.find((j) => j.role === 'main')!, sidecar: jobs.find((j) => j.role === 'sidecar')!, survivors, state, attemptsOfSidecar: attempts.n };
  } finally {
    assert.deepEqual(await t.cleanup(), [], 'every process the run started is gone');
  }
}

const lines = (state: string, name: string) => readFileSync(join(state, name), 'utf8').trim().split('\n');

describe('sidecar restart loop (the incident command)', { concurrency: 2 }, () => {
  it('main exits 0: the loop is stopped at once, corral exits 0, nothing survives', async () => {
    // corral restarts the sidecar (BG_ROUNDS=2 makes background.sh end), with the default 1s delay and 10s grace
    const o = await runIncident([], { BG_ROUNDS: '2', WAIT_SIDECAR_STARTS: '2', WAIT_BG_ROUNDS: '3' });
    assert.equal(o.res.code, 0, o.res.stderr);
    assert.deepEqual(o.survivors, []);
    assert.equal(o.main.state, 'succeeded');
    assert.equal(o.sidecar.stop_reason, 'main-ended');
    assert.ok(o.attemptsOfSidecar >= 2, `the sidecar was restarted (${o.attemptsOfSidecar} attempts)`);
    assert.ok(lines(o.state, 'bg-rounds').every((l) => l.endsWith(' 0')), 'the background loop got CUDA_VISIBLE_DEVICES=0 too');
    // stopped by SIGTERM well inside the 10s grace: no SIGKILL was needed
    assert.ok(o.sidecar.ended_at! - o.main.ended_at! < 2000, `sidecar stopped ${o.sidecar.ended_at! - o.main.ended_at!}ms after main`);
    assert.equal(o.run.status, 'succeeded');
  });

  it('main fails: the exit status is the main job\'s, the loop is stopped within grace', async () => {
    const o = await runIncident(['--grace', '500ms'], { TRAIN_EXIT: '3' });
    assert.equal(o.res.code, 3, o.res.stderr);
    assert.deepEqual(o.survivors, []);
    assert.equal(o.main.state, 'failed');
    assert.equal(o.sidecar.stop_reason, 'main-ended');
    assert.ok(o.sidecar.ended_at! - o.main.ended_at! < 500 + 1000);
    assert.equal(o.run.status, 'failed');
  });

  it('main times out: exit 124, the loop is stopped within grace', async () => {
    const o = await runIncident(['--grace', '500ms', '--timeout', '2s'], { TRAIN_MODE: 'hang' });
    assert.equal(o.res.code, 124, o.res.stderr);
    assert.deepEqual(o.survivors, []);
    assert.equal(o.main.stop_reason, 'timeout');
    assert.equal(o.sidecar.stop_reason, 'main-ended');
    assert.ok(o.sidecar.ended_at! - o.main.ended_at! < 500 + 1000);
  });

  it('a sidecar waiting to restart when main ends is recorded as stopped, not as its last attempt', async () => {
    const t = new Tracker();
    const token = t.token('between');
    const home = tempHome();
    const corral = startCorral(['run', '--sidecar', 'exit 0', '--sidecar-restart', 'always', '--sidecar-restart-delay', '30s', '--', 'sleep', '1'], { env: { CORRAL_TEST_TOKEN: token }, home });
    try {
      const res = await corral.done;
      assert.equal(res.code, 0, res.stderr);
      const db = openLedger(join(home, 'ledger.sqlite'));
      const side = db.prepare("SELECT * FROM jobs WHERE role = 'sidecar'").get() as unknown as JobRow;
      db.close();
      assert.equal(side.state, 'stopped');
      assert.equal(side.stop_reason, 'main-ended');
    } finally {
      await waitFor(() => t.alive().length === 0, 'the sentinel to exit', 5000).catch(() => {});
      assert.deepEqual(await t.cleanup(), []);
    }
  });

  it('a loop that ignores SIGTERM is SIGKILLed when the grace ends', async () => {
    const grace = 400;
    const o = await runIncident(['--grace', `${grace}ms`], { STUBBORN: '1', TRAIN_EXIT: '0' });
    assert.equal(o.res.code, 0, o.res.stderr);
    assert.deepEqual(o.survivors, []);
    const took = o.sidecar.ended_at! - o.main.ended_at!;
    assert.ok(took >= grace - 50 && took < grace + 1000, `sidecar stopped ${took}ms after main (grace ${grace}ms)`);
  });
});
