import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { attemptsOfRun } from '../../src/ledger/jobs.ts';
import { registryOfRun } from '../../src/ledger/registry.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { FIXTURES, runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';
import { signalIdentity } from '../../src/proc/signal.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

const NOBODY = 65534;

/*
 * Issue 8.2: in a lost run's session, another user's processes are planned as "left alone (needs
 * --any-user)". The teardown re-collects members through its grace period: a child that user forks
 * after the plan must pass the same rule, and no group-wide signal may reach any of them.
 */
test("reap --run leaves another user's processes alone, including the ones born after its plan", async (ctx) => {
  if (process.getuid?.() !== 0) return skipOrFail(ctx, 'needs root to run a lost run with a child of another uid');
  const dir = mkdtempSync(join(tmpdir(), 'corral-forker-'));
  chmodSync(dir, 0o777);
  const log = join(dir, 'terms');
  const home = tempHome();
  const token = t.token('forker');
  const job = `"$0" ${NOBODY} "$1" & exec sleep 100000`;
  const sup = startCorral(['run', '--', 'sh', '-c', job, join(FIXTURES, 'nobody-forker.sh'), log], { home, env: { CORRAL_POLL_MS: '50', CORRAL_TEST_TOKEN: token, CORRAL_CGROUP: 'off' } });
  t.pid(sup.child.pid);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const run = await waitFor(() => listRuns(db)[0]?.sentinel_pid ? listRuns(db)[0] : undefined, 'the run');
  const attempt = await waitFor(() => attemptsOfRun(db, run.id)[0], 'the attempt');
  const leader = readIdentity(attempt.pid!)!;
  await waitFor(() => registryOfRun(db, run.id, { live: true }).some((r) => r.uid === NOBODY), "the other user's process in the registry");
  // make the run lost: freeze the supervisor (it would replace a sentinel that dies under it), kill the
  // sentinel so that nothing tears the run down, then the supervisor
  process.kill(sup.child.pid!, 'SIGSTOP');
  await waitFor(() => readStat(sup.child.pid!)?.state === 'T', 'the supervisor to stop');
  signalIdentity({ pid: run.sentinel_pid!, starttime: run.sentinel_starttime! }, 'SIGKILL');
  await waitFor(() => !isAlive({ pid: run.sentinel_pid!, starttime: run.sentinel_starttime! }), 'the sentinel to die');
  const gone = new Promise((r) => sup.child.once('exit', r));
  sup.child.kill('SIGKILL');
  await gone;
  db.close();
  const res = await runCorral(['reap', '--run', run.id, '--yes', '--grace', '2s'], { home });
  assert.ok(!isAlive(leader), `the run's own process is gone: ${res.stdout}${res.stderr}`);
  assert.match(res.stdout + res.stderr, /--any-user/, 'the plan says what it left alone and why');
  const terms = existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter(Boolean).length : 0;
  assert.equal(terms, 0, "no process of the other user received the stop signal");
  assert.ok(findByToken(token).some((p) => p.state !== 'Z' && readFileSync(`/proc/${p.pid}/status`, 'utf8').includes(`Uid:\t${NOBODY}`)), "the other user's processes are alive");
  assert.equal(res.code, 3, 'something the reap selected is still alive');
  // the test's own cleanup of what the reap rightly left: the forking loop first, then its last children
  await waitFor(() => {
    for (const p of findByToken(token)) if (p.state !== 'Z' && readIdentity(p.pid)?.starttime === p.starttime) process.kill(p.pid, 'SIGKILL');
    return findByToken(token).every((p) => p.state === 'Z');
  }, 'the left-alone processes to be gone');
});
