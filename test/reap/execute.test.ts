import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { eventsOfRun } from '../../src/ledger/events.ts';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { newRunId } from '../../src/ledger/ids.ts';
import { getRun, insertRun } from '../../src/ledger/runs.ts';
import { isAlive, readIdentity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { executePlan } from '../../src/reap/execute.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { STRAY_FIXTURES } from '../strays/stray-kit.ts';
import { childrenOf, planFor, scan, spawnShell, tempLedger } from './reap-helpers.ts';

const t = new Tracker();
const db = tempLedger();
after(async () => {
  db.close();
  assert.deepEqual(await t.cleanup(), [], 'reap removed everything the tests meant it to; only bystanders were left for the tracker');
});

const running = (pid: number, starttime: number) => isAlive({ pid, starttime });

test('a named tree with a stopped member goes through teardown; a bystander survives', async () => {
  const token = t.token('tree');
  const sh = spawnShell(t, token, 'sleep 100000 & sleep 100000 & wait');
  const kids = await childrenOf(t, sh.pid!, 2);
  process.kill(kids[0]!, 'SIGSTOP');
  await waitFor(() => readStat(kids[0]!)?.state === 'T', 'a stopped child');
  const bystander = spawnShell(t, token, 'exec sleep 100000');
  const ids = [sh.pid!, ...kids].map((p) => readIdentity(p)!);
  const plan = await planFor(db, { pids: [sh.pid!] });
  const res = await executePlan(plan, db, { graceMs: 2000 });
  assert.deepEqual(res.killed.map((k) => k.pid).sort(), ids.map((i) => i.pid).sort());
  assert.deepEqual(res.remaining, []);
  assert.ok(ids.every((i) => !running(i.pid, i.starttime)), 'all gone, the stopped one included (SIGCONT with the stop signal)');
  assert.equal(res.escalated, false, 'sleep and a continued sleep both end on SIGTERM');
  assert.deepEqual([res.gpuBefore, res.gpuAfter], [[], []]);
  assert.ok(running(bystander.pid!, readStat(bystander.pid!)!.starttime), 'the bystander is untouched');
  bystander.kill('SIGKILL');
  await waitFor(() => readStat(bystander.pid!) === null || readStat(bystander.pid!)?.state === 'Z', 'the bystander to go');
});

test("reaping a zombie's parent resolves the zombie (left, at worst, for init to collect)", async () => {
  const token = t.token('zombie');
  const parent = spawnShell(t, token, 'sleep 0.2 & exec sleep 100000');
  const [zombie] = await childrenOf(t, parent.pid!, 1);
  await waitFor(() => readStat(zombie!)?.state === 'Z', 'the zombie');
  const plan = await planFor(db, { pids: [zombie!, parent.pid!] });
  const res = await executePlan(plan, db, { graceMs: 1000 });
  assert.deepEqual(res.killed.map((k) => k.pid), [parent.pid]);
  const st = readStat(zombie!);
  if (st) {
    // This machine's init may not reap: the zombie then waits on pid 1, and the result says so.
    assert.equal(st.ppid, 1);
    assert.match(res.remaining.find((r) => r.pid === zombie)!.detail, /parent is now init/);
  } else assert.deepEqual(res.remaining, []);
});

test('a real process in state D: strays calls it unkillable with its wchan; a killable wait still ends on SIGKILL', async (ctx) => {
  const bin = join(mkdtempSync(join(tmpdir(), 'corral-vfork-')), 'vfork-stop');
  if (spawnSync('cc', ['-o', bin, join(STRAY_FIXTURES, 'vfork-stop.c')]).status !== 0) return ctx.skip('no C compiler');
  const parent = spawn(bin, [], { stdio: 'ignore' });
  t.pid(parent.pid);
  await waitFor(() => readStat(parent.pid!)?.state === 'D', 'the vfork parent in D');
  const [child] = await childrenOf(t, parent.pid!, 1);
  const found = (await scan(db)).strays.find((s) => s.pid === parent.pid)!;
  assert.deepEqual(found.reasons.map((r) => r.reason), ['unkillable']);
  assert.match(String(found.wchan), /kernel_clone|vfork/);
  const ids = [readIdentity(parent.pid!)!, readIdentity(child!)!];
  const res = await executePlan(await planFor(db, { pids: [parent.pid!] }), db, { graceMs: 300 });
  assert.ok(ids.every((i) => !running(i.pid, i.starttime)));
  assert.deepEqual(res.remaining, []);
});

test('reaping a run whose supervisor and sentinel are gone records it in the ledger as supervisor-lost', async () => {
  const runId = newRunId();
  insertRun(db, { id: runId, kind: 'run', name: null, argv: '[]', cwd: null, uid: process.getuid!(), user: 'x', host: 'h', supervisor_pid: 999_999_999, supervisor_starttime: 1, config: null, started_at: Date.now() - 1000, boot_id: currentBootId(), start_ticks: ticksNow() - 100 });
  const token = t.token('lost');
  const left = spawn('sleep', ['100000'], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token, CORRAL_RUN_ID: runId, CORRAL_JOB_ID: `${runId}.main` } });
  t.pid(left.pid);
  await waitFor(() => readStat(left.pid!)?.state === 'S', 'the leftover');
  const plan = await planFor(db, { strays: true, filters: { run: runId } });
  assert.deepEqual(plan.targets.map((x) => [x.pid, x.reasons, x.runId]), [[left.pid, ['run-ended'], runId]]);
  const res = await executePlan(plan, db, { graceMs: 1000 });
  assert.deepEqual(res.killed.map((k) => k.pid), [left.pid]);
  const run = getRun(db, runId)!;
  assert.deepEqual([run.status, run.stop_reason], ['lost', 'supervisor-lost']);
  assert.deepEqual(eventsOfRun(db, runId).map((e) => [e.kind, JSON.parse(e.data!).killed]), [['reap', 1]]);
});
