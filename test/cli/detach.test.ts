import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, test } from 'node:test';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { BIN, runCorral, tempHome } from '../helpers/corral.ts';
import { findByToken, Tracker, waitFor } from '../helpers/procs.ts';
import { jobScript, runRow } from './run-kit.ts';
import { signalIdentity } from '../../src/proc/signal.ts';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

// The pinned Node first on PATH: the shim (bin/corral.js run as a program) execs `node`.
const PATH = `${dirname(process.execPath)}:${process.env.PATH}`;

/** A job that appends a line to FILE every 100ms, for ever: its progress is what the tests wait on. */
function ticking(file: string): string {
  return jobScript(`while :; do echo tick >> '${file}'; sleep 0.1; done`);
}
const ticks = (file: string) => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);

test('nohup: a SIGHUP ignored when corral started stays ignored; the job keeps running; SIGTERM still ends it', async () => {
  const home = tempHome();
  const token = t.token('nohup');
  const file = join(mkdtempSync(join(tmpdir(), 'corral-nohup-')), 'ticks');
  // As nohup does: SIGHUP ignored, then exec corral (the shim, as a user's shell runs it).
  const corral = spawn('/bin/sh', ['-c', `trap '' HUP; exec '${BIN}' run --grace 2s -- '${ticking(file)}'`], {
    env: { ...process.env, PATH, NO_COLOR: '1', CORRAL_HOME: home, CORRAL_TEST_TOKEN: token }, stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  corral.stderr!.on('data', (d: Buffer) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => corral.once('exit', (code) => resolve(code)));
  t.pid(corral.pid);
  const run = await waitFor(() => runRow(home)?.sentinel_pid ? runRow(home) : undefined, 'the run in the ledger');
  t.pid(run.sentinel_pid!);
  await waitFor(() => ticks(file) >= 2, 'the job to run');
  for (const p of findByToken(token)) t.pid(p.pid);
  corral.kill('SIGHUP');
  const before = ticks(file);
  await waitFor(() => ticks(file) >= before + 8, 'the job to go on after SIGHUP');
  assert.ok(isAlive({ pid: corral.pid!, starttime: readStat(corral.pid!)!.starttime }), `corral is still running: ${stderr}`);
  assert.equal(runRow(home, run.id)!.status, 'running');
  assert.doesNotMatch(stderr, /SIGHUP/, 'corral did not react to the ignored SIGHUP');
  corral.kill('SIGTERM');
  assert.equal(await exited, 143, stderr);
  await waitFor(() => t.alive().length === 0, 'every process of the run to be gone', 5000);
});

test('--detach returns at once with the run id; the job runs; corral logs shows it; corral stop ends it with nothing left', async () => {
  const home = tempHome();
  const token = t.token('detach');
  const file = join(mkdtempSync(join(tmpdir(), 'corral-detach-')), 'ticks');
  // ticking() sends its own output to /dev/null; the sh before it says one line to the run's log.
  const script = ticking(file);
  const begin = performance.now();
  const res = await runCorral(['run', '--detach', '--grace', '2s', '--', '/bin/sh', '-c', `echo started-in-log; exec '${script}'`], { home, env: { CORRAL_TEST_TOKEN: token } });
  const tookMs = performance.now() - begin;
  assert.equal(res.code, 0, res.stderr);
  const runId = res.stdout.trim();
  assert.match(runId, /^\d{8}-\d{6}-[a-z0-9]+$/, `stdout is the run id alone: ${res.stdout}`);
  assert.match(res.stderr, new RegExp(`run ${runId} detached .*corral stop ${runId}`));
  const run = runRow(home, runId)!;
  t.pid(run.supervisor_pid!);
  t.pid(run.sentinel_pid ?? undefined);
  assert.equal(run.status, 'running', 'the run goes on after corral returned');
  assert.ok(tookMs < 15_000, `returned at once (${Math.round(tookMs)}ms)`);
  const sup = readStat(run.supervisor_pid!)!;
  assert.equal(sup.sid, sup.pid, 'the supervisor leads its own session: no terminal, no SIGHUP at logout');
  await waitFor(() => ticks(file) >= 2, 'the detached job to run');
  for (const p of findByToken(token)) t.pid(p.pid);
  const logs = await waitFor(async () => {
    const r = await runCorral(['logs', runId], { home });
    return r.stdout.includes('started-in-log') ? r : undefined;
  }, "the job's output in corral logs");
  assert.equal(logs.code, 0);
  const ps = await runCorral(['ps'], { home });
  assert.match(ps.stdout, new RegExp(runId));
  const stop = await runCorral(['stop', runId], { home });
  assert.equal(stop.code, 0, stop.stdout + stop.stderr);
  await waitFor(() => t.alive().length === 0, 'every process of the detached run to be gone', 15_000);
  const row = runRow(home, runId)!;
  assert.deepEqual([row.status, row.stop_reason, row.exit_code], ['stopped', 'stopped', 143]);
  const own = readFileSync(join(home, 'logs', runId, 'supervisor.log'), 'utf8');
  assert.match(own, /corral stop: stopping/, "the supervisor's own messages are in its log");
});

test('--detach: a SIGKILLed detached supervisor is still covered by its sentinel', async () => {
  const home = tempHome();
  const token = t.token('detachkill');
  const res = await runCorral(['run', '--detach', '--grace', '1s', '--', jobScript('setsid sleep 100000 &\nsleep 100000 &\nexec sleep 100000')], { home, env: { CORRAL_TEST_TOKEN: token, CORRAL_POLL_MS: '50' } });
  assert.equal(res.code, 0, res.stderr);
  const runId = res.stdout.trim();
  const run = await waitFor(() => runRow(home, runId)?.sentinel_pid ? runRow(home, runId) : undefined, 'the sentinel in the ledger');
  t.pid(run.supervisor_pid!);
  t.pid(run.sentinel_pid!);
  const jobs = () => findByToken(token).filter((p) => p.state !== 'Z' && p.pid !== run.supervisor_pid && p.pid !== run.sentinel_pid);
  await waitFor(() => jobs().length >= 3, 'three job processes');
  for (const p of jobs()) t.pid(p.pid);
  signalIdentity({ pid: run.supervisor_pid!, starttime: run.supervisor_starttime! }, 'SIGKILL');
  await waitFor(() => t.alive().length === 0, 'the sentinel to tear the run down', 20_000);
  const row = await waitFor(() => (runRow(home, runId)?.status === 'lost' ? runRow(home, runId) : undefined), 'the loss recorded');
  assert.equal(row.stop_reason, 'supervisor-lost');
});

test('pool --detach returns the run id at once; its tasks run and log; corral stop ends the pool with nothing left', async () => {
  const home = tempHome();
  const token = t.token('pooldetach');
  const res = await runCorral(['pool', '--detach', '--jobs', '2', '--grace', '1s', '--', 'echo task {}; exec sleep 100000', ':::', 'a', 'b'], { home, env: { CORRAL_TEST_TOKEN: token } });
  assert.equal(res.code, 0, res.stderr);
  const runId = res.stdout.trim();
  assert.match(runId, /^\d{8}-\d{6}-[a-z0-9]+$/);
  const run = runRow(home, runId)!;
  t.pid(run.supervisor_pid!);
  t.pid(run.sentinel_pid ?? undefined);
  const tasks = () => findByToken(token).filter((p) => p.state !== 'Z' && p.pid !== run.supervisor_pid && p.pid !== run.sentinel_pid && p.cmd.includes('sleep'));
  await waitFor(() => tasks().length >= 2, 'both tasks to run');
  for (const p of tasks()) t.pid(p.pid);
  await waitFor(async () => /task a[\s\S]*task b|task b[\s\S]*task a/.test((await runCorral(['logs', runId], { home })).stdout), "both tasks' output in corral logs");
  assert.equal((await runCorral(['stop', runId], { home })).code, 0);
  await waitFor(() => t.alive().length === 0, 'every process of the detached pool to be gone', 15_000);
  assert.equal(runRow(home, runId)!.status, 'stopped');
  assert.match(readFileSync(join(home, 'logs', runId, 'supervisor.log'), 'utf8'), /corral stop/);
});

test('pool --detach --json is bad usage: exit 2, nothing started', async () => {
  const home = tempHome();
  const res = await runCorral(['pool', '--detach', '--json', '--jobs', '1', '--', 'true', ':::', 'a'], { home });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--json .*--detach/);
  assert.ok(!existsSync(join(home, 'ledger.sqlite')), 'no ledger written');
});
