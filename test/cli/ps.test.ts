import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { readStat } from '../../src/proc/stat.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { jobScript, loseRun, startRun } from './run-kit.ts';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

interface PsRun { id: string; status: string; strays: number; supervisorAlive: boolean; sentinelAlive: boolean }
interface HistoryRun { id: string; status: string; recordedStatus: string; strays: number | null; stopReason: string | null }

async function json<T>(args: string[], home: string): Promise<T> {
  const res = await runCorral(args, { home });
  assert.equal(res.code, 0, res.stdout + res.stderr);
  return JSON.parse(res.stdout) as T;
}

test('a run whose supervisor and sentinel are both gone shows as lost, with its strays, in ps and history', async () => {
  const home = tempHome();
  const token = t.token('pslost');
  const live = await startRun(t, home, token, ['--name', 'doomed'], jobScript('setsid sleep 100000 &\nsleep 100000 &\nexec sleep 100000'), 3);
  const before = await json<PsRun[]>(['ps', '--json'], home);
  assert.deepEqual(before.map((r) => [r.id, r.status, r.strays]), [[live.run.id, 'running', 0]]);
  await loseRun(t, home, live, 3);

  const ps = await json<PsRun[]>(['ps', '--json'], home);
  assert.deepEqual(ps.map((r) => [r.id, r.status, r.strays, r.supervisorAlive, r.sentinelAlive]), [[live.run.id, 'lost', 3, false, false]]);
  const text = await runCorral(['ps', 'doomed'], { home });
  assert.match(text.stdout, new RegExp(`${live.run.id} doomed  run, lost, .*LOST: supervisor and sentinel gone, 3 stray\\(s\\) left: corral stop ${live.run.id}`));
  const history = await json<HistoryRun[]>(['history', '--json'], home);
  assert.deepEqual(history.map((r) => [r.status, r.recordedStatus, r.strays, r.stopReason]), [['lost', 'running', 3, 'supervisor-lost']]);
  assert.match((await runCorral(['history'], { home })).stdout, /lost \(3 strays\)\s+supervisor-lost/);
  assert.equal((await json<HistoryRun[]>(['history', '--json', '--status', 'lost'], home)).length, 1);
  assert.equal((await json<HistoryRun[]>(['history', '--json', '--status', 'running'], home)).length, 0);

  const stop = await runCorral(['stop', 'doomed'], { home });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  assert.deepEqual(await json<PsRun[]>(['ps', '--json'], home), []);
  const after = await json<HistoryRun[]>(['history', '--json'], home);
  assert.deepEqual(after.map((r) => [r.status, r.recordedStatus, r.strays, r.stopReason]), [['lost', 'lost', null, 'stopped']]);
});

test('a row whose sentinel was never recorded is lost once its supervisor is dead, running while it lives', async () => {
  const home = tempHome();
  // a supervisor SIGKILLed during start-up: a real process, now dead
  const dead = spawn('sleep', ['0.2'], { stdio: 'ignore' });
  const starttime = readStat(dead.pid!)!.starttime;
  await new Promise((resolve) => dead.once('exit', resolve));
  await waitFor(() => readStat(dead.pid!)?.starttime !== starttime, 'the start-up supervisor to be gone');
  const db = openLedger(join(home, 'ledger.sqlite'));
  const row = (id: string, pid: number, st: number) => insertRun(db, {
    id, kind: 'run', name: null, argv: '["run","--","x"]', cwd: '/', uid: 0, user: 'root', host: 'h', supervisor_pid: pid,
    supervisor_starttime: st, config: null, started_at: Date.now(), boot_id: currentBootId(), start_ticks: ticksNow(),
  });
  row('20261123-000000-dead', dead.pid!, starttime);
  row('20261123-000001-live', process.pid, readStat(process.pid)!.starttime);
  db.close();
  const ps = await json<PsRun[]>(['ps', '--json'], home);
  assert.deepEqual(ps.map((r) => [r.id, r.status, r.strays]).sort(), [['20261123-000000-dead', 'lost', 0], ['20261123-000001-live', 'running', 0]]);
  const history = await json<HistoryRun[]>(['history', '--json'], home);
  assert.deepEqual(history.map((r) => [r.id, r.status]).sort(), [['20261123-000000-dead', 'lost'], ['20261123-000001-live', 'running']]);
});

test('a run from before the last reboot is lost (reason rebooted), and its recorded pids, live again now, are never its members', async () => {
  const home = tempHome();
  // the row's supervisor pid and start time name a live process of this boot (this test): another boot's
  // identity must not be taken for it, nor may reap plan to signal it
  const db = openLedger(join(home, 'ledger.sqlite'));
  insertRun(db, {
    id: '20261123-000002-boot', kind: 'run', name: null, argv: '["run","--","x"]', cwd: '/', uid: 0, user: 'root', host: 'h',
    supervisor_pid: process.pid, supervisor_starttime: readStat(process.pid)!.starttime, config: null, started_at: Date.now(),
    boot_id: 'an-earlier-boot', start_ticks: 0,
  });
  const bystander = spawn('sleep', ['1000'], { stdio: 'ignore' });
  t.pid(bystander.pid);
  const by = await waitFor(() => readStat(bystander.pid!), 'the bystander');
  db.prepare("INSERT INTO registry (pid, starttime, run_id, job_id, first_seen) VALUES (?, ?, '20261123-000002-boot', NULL, 0)").run(bystander.pid!, by.starttime);
  db.close();
  const history = await json<HistoryRun[]>(['history', '--json'], home);
  assert.deepEqual(history.map((r) => [r.status, r.stopReason]), [['lost', 'rebooted']]);
  const ps = await runCorral(['ps'], { home });
  assert.match(ps.stdout, /started before the machine last rebooted/);
  const plan = await runCorral(['reap', '--run', '20261123-000002-boot', '--dry-run', '--json'], { home });
  assert.equal(plan.code, 0, plan.stderr);
  assert.deepEqual((JSON.parse(plan.stdout) as { plan: { targets: unknown[] } }).plan.targets, []);
  const gone = new Promise((r) => bystander.once('exit', r));
  bystander.kill('SIGKILL');
  await gone;
});

test('an unknown or ambiguous reference exits 2 in every command, naming the candidates', async () => {
  const home = tempHome();
  for (let i = 0; i < 2; i++) assert.equal((await runCorral(['run', '--', 'true'], { home })).code, 0);
  const unknown = [
    ['ps', 'nope'], ['logs', 'nope'], ['logs', 'last.nojob'], ['strays', '--run', 'nope'], ['report', '--run', 'nope'],
    ['reap', '--run', 'nope', '--dry-run'], ['reap', '--job', 'nope.main', '--dry-run'], ['reap', '--strays', '--run', 'nope', '--dry-run'], ['stop', 'nope'],
  ];
  for (const args of unknown) {
    const res = await runCorral(args, { home });
    assert.equal(res.code, 2, `corral ${args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, /corral: error: (no (run|job|run or job) 'nope(\.main)?' in the ledger|run \S+ has no job 'nojob')/, args.join(' '));
    assert.doesNotMatch(res.stdout, /no strays/);
  }
  for (const args of [['strays', '--run', '2026'], ['report', '--run', '2026'], ['ps', '2026'], ['logs', '2026'], ['reap', '--run', '2026', '--dry-run']]) {
    const res = await runCorral(args, { home });
    assert.equal(res.code, 2, `corral ${args.join(' ')}: ${res.stdout}${res.stderr}`);
    assert.match(res.stderr, /'2026' is ambiguous: it is the start of 2 run ids: 2026\S+ succeeded, 2026\S+ succeeded/, args.join(' '));
  }
  const known = await runCorral(['strays', '--run', 'last', '--json'], { home });
  assert.equal(known.code, 0, known.stderr);
});
