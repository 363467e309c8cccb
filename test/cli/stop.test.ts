import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { jobsOfRun } from '../../src/ledger/jobs.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { exitOf, jobScript, loseRun, runRow, startRun } from './run-kit.ts';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

// Each attempt leaves a background sleep and fails: a --restart always run restarts it for ever.
const RESTARTING = 'sleep 100000 &\nsleep 0.3\nexit 1';
const restartArgs = ['--restart', 'always', '--restart-delay', '100ms', '--grace', '2s'];

async function attempts(home: string, runId: string, n: number): Promise<void> {
  await waitFor(() => {
    const db = openLedger(join(home, 'ledger.sqlite'));
    const main = jobsOfRun(db, runId).find((j) => j.name === 'main');
    db.close();
    return (main?.attempts ?? 0) >= n;
  }, `attempt ${n} of the restarting job`);
}

test('corral stop ends a live --restart always run: recorded stopped, nothing left, the sentinel clean', async () => {
  const home = tempHome();
  const token = t.token('stop');
  const live = await startRun(t, home, token, restartArgs, jobScript(RESTARTING), 1);
  await attempts(home, live.run.id, 2);
  const res = await runCorral(['stop', 'last'], { home });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  assert.match(res.stdout, new RegExp(`run ${live.run.id} stopped in .* \\(stopped, stopped, exit status 143\\)`));
  assert.equal(await exitOf(live), 143, 'the supervisor exits as for a SIGTERM');
  const row = runRow(home, live.run.id)!;
  assert.deepEqual([row.status, row.stop_reason, row.exit_code], ['stopped', 'stopped', 143]);
  await waitFor(() => t.alive().length === 0, 'every process of the run to be gone', 5000);
  assert.ok(!isAlive({ pid: live.run.sentinel_pid!, starttime: live.run.sentinel_starttime! }), 'the sentinel ended');
  const log = join(home, 'logs', `${live.run.id}.sentinel.log`);
  if (existsSync(log)) assert.doesNotMatch(readFileSync(log, 'utf8'), /lost its supervisor/, 'the sentinel saw a clean end');
  if (live.run.cgroup) assert.ok(!existsSync(live.run.cgroup), 'the run cgroup is removed');
});

test('corral stop tears a lost run down from the ledger (supervisor and sentinel SIGKILLed)', async () => {
  const home = tempHome();
  const token = t.token('stoplost');
  const live = await startRun(t, home, token, [], jobScript('setsid sleep 100000 &\nsleep 100000 &\nexec sleep 100000'), 3);
  const pids = await loseRun(t, home, live, 3);
  assert.equal(pids.length, 3);
  const res = await runCorral(['stop', live.run.id.slice(0, 18), '--grace', '1s', '--json'], { home });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  const out = JSON.parse(res.stdout) as { outcome: string; status: string; stopReason: string; members: number; alive: number[] };
  assert.deepEqual([out.outcome, out.status, out.stopReason, out.alive], ['torn-down', 'lost', 'stopped', []]);
  assert.equal(out.members, 3);
  assert.deepEqual(t.alive(), [], 'every process of the lost run is gone');
  const row = runRow(home, live.run.id)!;
  assert.deepEqual([row.status, row.stop_reason], ['lost', 'stopped']);
  assert.ok(row.end_ticks, 'the end is recorded in boot-relative ticks');
  if (live.run.cgroup) assert.ok(!existsSync(live.run.cgroup), 'the lost run cgroup is removed');
  const again = await runCorral(['stop', 'last'], { home });
  assert.equal(again.code, 0);
  assert.match(again.stdout, /had already ended \(lost, stopped\); nothing to stop/);
});

test('reap --run of a live run exits 2 naming corral stop and the run keeps running; --force reaps it', async () => {
  const home = tempHome();
  const token = t.token('reaplive');
  const live = await startRun(t, home, token, restartArgs, jobScript(RESTARTING), 1);
  await attempts(home, live.run.id, 2);
  const refused = await runCorral(['reap', '--run', 'last', '--yes'], { home });
  assert.equal(refused.code, 2, refused.stdout + refused.stderr);
  assert.match(refused.stderr, new RegExp(`run ${live.run.id} is live[\\s\\S]*corral stop ${live.run.id}[\\s\\S]*--force`));
  const dry = await runCorral(['reap', '--job', 'last.main', '--dry-run'], { home });
  assert.equal(dry.code, 2, 'a job of a live run is refused the same way');
  await attempts(home, live.run.id, 4); // it still restarts: the reap touched nothing
  assert.ok(isAlive({ pid: live.run.supervisor_pid!, starttime: live.run.supervisor_starttime! }), 'the supervisor still runs');
  assert.ok(isAlive({ pid: live.run.sentinel_pid!, starttime: live.run.sentinel_starttime! }), 'the sentinel still runs');
  if (live.run.cgroup) assert.ok(existsSync(live.run.cgroup), 'the run cgroup is still there');
  assert.equal(runRow(home, live.run.id)!.status, 'running');

  const forced = await runCorral(['reap', '--run', 'last', '--yes', '--force', '--grace', '2s'], { home });
  assert.equal(forced.code, 0, forced.stdout + forced.stderr);
  await exitOf(live);
  await waitFor(() => t.alive().length === 0, 'the forced reap to leave nothing', 5000);
  assert.notEqual(runRow(home, live.run.id)!.status, 'running');
});

test('stop takes runs only: a job reference, an unknown and an ambiguous one exit 2', async () => {
  const home = tempHome();
  for (let i = 0; i < 2; i++) assert.equal((await runCorral(['run', '--', 'true'], { home })).code, 0);
  const job = await runCorral(['stop', 'last.main'], { home });
  assert.equal(job.code, 2);
  assert.match(job.stderr, /names job .*\.main: corral stop stops whole runs[\s\S]*corral stop 20/);
  const unknown = await runCorral(['stop', 'nope'], { home });
  assert.equal(unknown.code, 2);
  assert.match(unknown.stderr, /no run or job 'nope' in the ledger/);
  const ambiguous = await runCorral(['stop', '20'], { home });
  assert.equal(ambiguous.code, 2);
  assert.match(ambiguous.stderr, /'20' is ambiguous: it is the start of 2 run ids: 20\S+ succeeded, 20\S+ succeeded/);
  const grace = await runCorral(['stop', 'last', '--grace', 'soon'], { home });
  assert.equal(grace.code, 2);
});
