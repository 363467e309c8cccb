import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { JobRunner, type JobContext, type JobSpec } from '../../src/jobs/job-runner.ts';
import { openLedger, type Db } from '../../src/ledger/db.ts';
import { eventsOfRun } from '../../src/ledger/events.ts';
import { jobIdFor, newRunId } from '../../src/ledger/ids.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { readStat } from '../../src/proc/stat.ts';
import { tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

// JobRunner on its own: a real ledger in a temp home, real processes, a context without a RunSession.
const isRoot = process.getuid?.() === 0;
const OTHER_UID = 1; // a uid that is neither root nor nobody: `daemon` on Debian

function setUp(opts: { unkillableMs?: number } = {}) {
  const db = openLedger(join(tempHome(), 'ledger.sqlite'));
  const runId = newRunId();
  insertRun(db, {
    id: runId, kind: 'run', name: null, argv: '[]', cwd: process.cwd(), uid: 0, user: 'test', host: 'test', supervisor_pid: process.pid,
    supervisor_starttime: null, config: '{}', started_at: Date.now(), boot_id: currentBootId(), start_ticks: ticksNow() - 2,
  });
  const abort = new AbortController();
  const events: { kind: string; data: Record<string, unknown> }[] = [];
  const ctx: JobContext = {
    db, runId, runCgroup: null, runStartTicks: ticksNow() - 2, exclude: [], registry: () => [], unkillableMs: opts.unkillableMs ?? 1000,
    abort: abort.signal, onEvent: (kind, data) => events.push({ kind, data }),
  };
  const runner = (spec: Partial<JobSpec> & Pick<JobSpec, 'argv'>) =>
    new JobRunner(ctx, jobIdFor(runId, 'main'), { name: 'main', role: 'main', restart: { mode: 'no', delayMs: 0, maxRestarts: 0 }, graceMs: 500, stopSignal: 'SIGTERM', stdio: 'ignore', ...spec });
  return { db, runId, abort, events, runner };
}

const open: Db[] = [];
const trackers: Tracker[] = [];
afterEach(async () => {
  if (isRoot) process.seteuid!(0);
  for (const db of open.splice(0)) db.close();
  for (const t of trackers.splice(0)) await t.cleanup();
});

/**
 * A leader the runner may not signal, for real: it runs as another uid, and the test process (root)
 * takes the effective uid of nobody once the leader is up. kill(2) then fails with EPERM, exactly as
 * for an unprivileged corral whose job went through sudo; afterEach takes root back to clean up.
 */
async function unsignallableLeader(t: Tracker, r: JobRunner) {
  // the runner knows its leader once the spawn returned: poll that one pid (a /proc-wide scan is slow under load)
  await waitFor(() => r.scope().leader !== null, 'the attempt to start', 10_000, 5);
  const leader = r.scope().leader!;
  t.pid(leader.pid);
  await waitFor(() => readStat(leader.pid)?.starttime === leader.starttime && /^Uid:\s+1\s+1\s+1/m.test(readFileSync(`/proc/${leader.pid}/status`, 'utf8')), 'the leader to run as another uid', 10_000, 5);
  process.seteuid!(65534);
  assert.throws(() => process.kill(leader.pid, 0), { code: 'EPERM' });
  return leader;
}

const asOtherUid = ['setpriv', `--reuid=${OTHER_UID}`, `--regid=${OTHER_UID}`, '--clear-groups', 'sleep', '300'];

test('a leader that outlives its teardown (EPERM) is waited for at most grace + unkillable, reported, and never restarted', { skip: !isRoot && 'needs root to run a leader as another uid', timeout: 30_000 }, async () => {
  const t = new Tracker();
  trackers.push(t);
  const token = t.token('runner-eperm');
  const { db, runId, events, runner } = setUp({ unkillableMs: 1000 });
  open.push(db);
  const r = runner({ argv: asOtherUid, env: { ...process.env, CORRAL_TEST_TOKEN: token }, timeoutMs: 3000, graceMs: 500, restart: { mode: 'always', delayMs: 0, maxRestarts: Infinity } });
  const started = performance.now();
  const outcome = r.run();
  const leader = await unsignallableLeader(t, r);
  const out = await outcome;
  const waited = performance.now() - started;
  process.seteuid!(0); // to read the leader's environment again
  assert.equal(out.end.reason, 'timeout');
  assert.equal(out.status, 124);
  assert.equal(out.attempts, 1, 'no attempt starts beside a leader that is still alive');
  assert.ok(out.leftovers.some((l) => l.pid === leader.pid && l.why === 'eperm' && /sudo corral reap/.test(l.fix)), JSON.stringify(out.leftovers));
  // the timeout fires at 3 s; then at most grace (0.5 s) + unkillable (1 s) of waiting, plus slack for load
  assert.ok(waited < 3000 + 1500 + 4000, `waited ${Math.round(waited)}ms`);
  assert.ok(waited >= 3000 + 1400, `gave the leader its grace + unkillable time: ${Math.round(waited)}ms`);
  assert.ok(events.some((e) => e.kind === 'end'));
  assert.ok(eventsOfRun(db, runId).some((e) => e.kind === 'leader-abandoned'));
  assert.ok(findByToken(token).some((p) => p.pid === leader.pid && p.state !== 'Z'), 'the leader is still alive: nothing could stop it');
});

test('the run aborting (a second Ctrl-C) ends the wait for an unsignallable leader at once', { skip: !isRoot && 'needs root to run a leader as another uid', timeout: 30_000 }, async () => {
  const t = new Tracker();
  trackers.push(t);
  const token = t.token('runner-abort');
  const { db, abort, runner } = setUp({ unkillableMs: 30_000 });
  open.push(db);
  const r = runner({ argv: asOtherUid, env: { ...process.env, CORRAL_TEST_TOKEN: token }, graceMs: 60_000 });
  const outcome = r.run();
  await unsignallableLeader(t, r);
  r.stop('signal');
  // now the runner waits up to 60 s + 30 s for the leader; give it a moment to be in that wait
  const settled = await Promise.race([outcome.then(() => 'ended'), new Promise((res) => setTimeout(() => res('waiting'), 1000))]);
  assert.equal(settled, 'waiting', 'the stop alone leaves the runner waiting out the grace');
  const aborted = performance.now();
  abort.abort();
  const out = await outcome;
  assert.ok(performance.now() - aborted < 1000, `ended ${Math.round(performance.now() - aborted)}ms after the abort`);
  assert.equal(out.end.reason, 'signal');
  assert.equal(out.leftovers.length, 1);
});

test('a stop between attempts ends a 30-day restart delay at once, with one attempt and the stop as the reason', async () => {
  const { db, runId, events, runner } = setUp();
  open.push(db);
  const r = runner({ argv: ['true'], restart: { mode: 'always', delayMs: 30 * 86_400_000, maxRestarts: Infinity } });
  const outcome = r.run();
  await waitFor(() => events.find((e) => e.kind === 'restart'), 'the first attempt to end and the delay to begin');
  assert.equal(events.find((e) => e.kind === 'restart')!.data.delayMs, 30 * 86_400_000);
  const stopped = performance.now();
  r.stop('signal');
  const out = await outcome;
  assert.ok(performance.now() - stopped < 1000);
  assert.equal(out.attempts, 1, 'the 30-day delay did not fire at once');
  assert.equal(out.end.reason, 'signal');
  const job = db.prepare('SELECT state, stop_reason, attempts FROM jobs WHERE run_id = ?').get(runId) as { state: string; stop_reason: string; attempts: number };
  assert.deepEqual({ ...job }, { state: 'failed', stop_reason: 'signal', attempts: 1 });
});

test('--max-runtime counts on the monotonic clock: a wall clock stepped 2 h ahead between attempts ends nothing', async () => {
  const { db, events, runner } = setUp();
  open.push(db);
  const realNow = Date.now;
  try {
    const r = runner({ argv: ['true'], maxRuntimeMs: 3_600_000, restart: { mode: 'always', delayMs: 100, maxRestarts: 2 } });
    const outcome = r.run();
    // as `date -s` or an NTP step would: Date.now() jumps, performance.now() does not
    await waitFor(() => events.some((e) => e.kind === 'restart'), 'the first restart');
    Date.now = () => realNow() + 2 * 3_600_000;
    const out = await outcome;
    assert.equal(out.attempts, 3);
    assert.equal(out.end.reason, 'exited', 'the last attempt ran to its end instead of being cut as max-runtime');
    assert.equal(out.status, 0);
  } finally {
    Date.now = realNow;
  }
});
