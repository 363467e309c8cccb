// Issue 16 item 3: a job inside the user's tmux runs `tmux new-window CMD`; the user's tmux server starts
// CMD outside everything corral contains. `corral strays` lists it as a candidate from the timeline (a
// window of a tmux server, started while an ended run was active, in that run's working directory), and
// leaves ordinary windows alone: one opened elsewhere during the run, one opened in the same directory after.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, realpathSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isAlive, type Identity } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import type { Stray } from '../../src/strays/types.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
let server: Identity | undefined;
let sock = '';
after(async () => {
  // Only the tmux server this test started, by its own socket, then by its identity.
  if (server && isAlive(server)) {
    spawnSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
    await waitFor(() => !isAlive(server!), 'our tmux server to exit', 5000).catch(() => process.kill(server!.pid, 'SIGKILL'));
  }
  const left = await t.cleanup();
  assert.deepEqual(left.filter((id) => id.pid !== server?.pid), [], 'the tmux server took its windows with it');
});

const hasTmux = spawnSync('tmux', ['-V']).status === 0;

test('a window a job opened in the user\'s tmux is listed as an escaped-tmux candidate with its evidence', async (ctx) => {
  if (!hasTmux) return skipOrFail(ctx, 'tmux is not installed');
  const token = t.token('tmux');
  const dir = realpathSync(mkdtempSync(join(tmpdir(), 'corral-tmux-')));
  const elsewhere = realpathSync(mkdtempSync(join(tmpdir(), 'corral-tmux-other-')));
  sock = join(dir, 'tmux.sock');
  const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_TEST_TOKEN: token };
  delete env.TMUX;
  // The user's tmux: a private server on its own socket, its first window started elsewhere.
  execFileSync('tmux', ['-S', sock, 'new-session', '-d', '-s', 'corraltest', 'sleep 100000'], { cwd: elsewhere, env });
  const serverPid = Number(execFileSync('tmux', ['-S', sock, 'display', '-p', '#{pid}'], { env }).toString());
  server = { pid: serverPid, starttime: readStat(serverPid)!.starttime };
  const home = tempHome();
  const go = join(dir, 'go');
  // The job escapes through new-window, then waits until the test has opened an ordinary window too.
  const job = `tmux -S "$1" new-window "sleep 100002" && while [ ! -e "$2" ]; do sleep 0.05; done`;
  const running = runCorral(['run', '--', 'sh', '-c', job, 'job', sock, go], { home, cwd: dir, env: { CORRAL_TEST_TOKEN: token, TMUX: `${sock},${serverPid},0` } });
  const escaped = await waitFor(() => findByToken(token).find((p) => p.cmd === 'sleep 100002'), 'the escaped window');
  // An ordinary window opened during the run, in another directory.
  execFileSync('tmux', ['-S', sock, 'new-window', '-c', elsewhere, 'sleep 100001'], { env });
  writeFileSync(go, '');
  const res = await running;
  assert.equal(res.code, 0, res.stderr);
  assert.ok(isAlive(escaped), 'the escaped window outlived the run (the README names this window)');
  // An ordinary window opened after the run, in the run's directory.
  execFileSync('tmux', ['-S', sock, 'new-window', '-c', dir, 'sleep 100003'], { env });
  await waitFor(() => findByToken(token).some((p) => p.cmd === 'sleep 100003'), 'the later window');
  for (const p of findByToken(token)) t.pid(p.pid);

  const out = await runCorral(['strays', '--json'], { home, env: { CORRAL_TEST_TOKEN: '' } });
  assert.equal(out.code, 0, out.stderr);
  const strays = (JSON.parse(out.stdout) as { strays: Stray[] }).strays;
  const [{ id }] = JSON.parse((await runCorral(['history', '--json'], { home })).stdout) as { id: string }[];
  const hit = strays.find((s) => s.pid === escaped.pid);
  assert.ok(hit, `the escaped window ${escaped.pid} is listed`);
  assert.deepEqual(hit.reasons.map((r) => [r.reason, r.severity]), [['escaped-tmux', 'warning']]);
  assert.deepEqual(hit.reasons[0]!.data, { runId: id, tmuxServerPid: serverPid, windowPid: escaped.pid, cwd: dir, runStatus: 'succeeded' });
  const others = findByToken(token).filter((p) => p.cmd !== 'sleep 100002').map((p) => p.pid);
  assert.deepEqual(strays.filter((s) => others.includes(s.pid)).map((s) => `${s.pid} ${s.command}`), [], 'ordinary windows are no strays');

  const en = await runCorral(['report'], { home });
  assert.match(en.stdout, new RegExp(`PID ${escaped.pid}[\\s\\S]*escaped through tmux[\\s\\S]*tmux new-window`));
  const zh = await runCorral(['report', '--lang', 'zh'], { home });
  assert.match(zh.stdout, new RegExp(`${escaped.pid}[\\s\\S]*经 tmux 逃逸`));

  // A candidate is reaped only when asked for (--reason escaped-tmux, or its pid). Dry runs: nothing is signalled.
  const planned = async (args: string[]) => {
    const r = await runCorral(['reap', '--dry-run', '--json', ...args], { home, env: { CORRAL_TEST_TOKEN: '' } });
    assert.equal(r.code, 0, r.stderr);
    return (JSON.parse(r.stdout) as { plan: { targets: { pid: number }[] } }).plan.targets.map((x) => x.pid);
  };
  assert.ok(!(await planned(['--strays'])).includes(escaped.pid), 'reap --strays alone leaves the candidate');
  assert.ok((await planned(['--strays', '--reason', 'escaped-tmux'])).includes(escaped.pid), 'asked for by reason');
  assert.ok((await planned([String(escaped.pid)])).includes(escaped.pid), 'named by pid');
  assert.ok(existsSync(sock));
});
