import assert from 'node:assert/strict';
import { join } from 'node:path';
import { afterEach, test } from 'node:test';
import { readStat } from '../../src/proc/stat.ts';
import { BIN, FIXTURES, tempHome } from '../helpers/corral.ts';
import { findByToken, Tracker, waitFor } from '../helpers/procs.ts';
import { Pane } from './terminal-kit.ts';

// corral in the foreground of a terminal (issue 10 item 2): the job shares it as under a shell. Each test
// drives an interactive bash in a private tmux server (terminal-kit.ts), and kills only that server.

let t = new Tracker();
let pane: Pane | null = null;
afterEach(async () => {
  pane?.close();
  pane = null;
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

/** Starts `corral run -- terminal-job.py MODE` at the pane's prompt; the token marks corral and the job only. */
function startJob(p: Pane, token: string, mode: string): void {
  p.type(`CORRAL_TEST_TOKEN=${token} ${BIN} run --grace 2s -- python3 ${join(FIXTURES, 'terminal-job.py')} ${mode}; echo "rc=$?"`);
}

function trackAll(token: string): void {
  for (const p of findByToken(token)) t.pid(p.pid);
}

test('Ctrl-C: the job gets SIGINT from the terminal and saves its checkpoint; corral exits 130 and tears down what escaped', async () => {
  const home = tempHome();
  const token = t.token('ctrlc');
  pane = new Pane(home);
  startJob(pane, token, 'interrupt');
  await pane.see(/^ready$/m, 'the job to be ready');
  // corral, the python leader, the setsid sleep, the sh ignoring SIGINT and its sleep
  await waitFor(() => findByToken(token).filter((p) => p.state !== 'Z').length >= 5, 'the job and its helpers');
  trackAll(token);
  pane.keys('C-c');
  const screen = await pane.see(/rc=\d+/, 'corral to exit');
  assert.match(screen, /checkpoint saved/, "the job's except KeyboardInterrupt ran");
  assert.match(screen, /rc=130/);
  await waitFor(() => t.alive().length === 0, 'the helpers outside the group (and ignoring SIGINT) to be torn down', 10_000);
});

test('Ctrl-Z stops the job and corral together; fg resumes both', async () => {
  const home = tempHome();
  const token = t.token('ctrlz');
  pane = new Pane(home);
  startJob(pane, token, 'tick');
  await pane.see(/^tick 3$/m, 'the job to tick');
  trackAll(token);
  pane.keys('C-z');
  await pane.see(/Stopped/, 'the shell to report the job stopped');
  // corral and the job; the sentinel has its own session, out of the terminal's reach, and keeps watching
  const procs = () => findByToken(token).filter((p) => p.state !== 'Z' && /corral\.js run|terminal-job\.py/.test(p.cmd));
  await waitFor(() => procs().length === 2 && procs().every((p) => p.state === 'T'), 'corral and the job both stopped (state T)');
  const last = Math.max(...[...pane.screen().matchAll(/^tick (\d+)$/gm)].map((m) => Number(m[1])));
  pane.type('fg');
  await pane.see(new RegExp(`^tick ${last + 3}$`, 'm'), 'the job to tick again after fg');
  assert.ok(procs().every((p) => readStat(p.pid)?.state !== 'T'), 'nothing is left stopped');
  pane.keys('C-c');
  // bash drops the rest of a command list it once suspended (no rc= line here): corral's own last line
  await pane.see(/ended: .*exit status 130/, 'corral to exit after Ctrl-C');
  await waitFor(() => t.alive().length === 0, 'every process of the run to be gone', 10_000);
});

test('a window-size change reaches the job (SIGWINCH to the foreground group)', async () => {
  const home = tempHome();
  const token = t.token('winch');
  pane = new Pane(home);
  startJob(pane, token, 'winch');
  await pane.see(/^ready$/m, 'the job to be ready');
  trackAll(token);
  pane.tmux(['resize-window', '-x', '72', '-y', '40']);
  await pane.see(/^winch 72$/m, 'the job to see the new width');
  pane.keys('C-c');
  await pane.see(/rc=130/, 'corral to exit after Ctrl-C');
  await waitFor(() => t.alive().length === 0, 'every process of the run to be gone', 10_000);
});

test('/dev/tty works in the job: it prompts on the terminal and reads the answer', async () => {
  const home = tempHome();
  const token = t.token('devtty');
  pane = new Pane(home);
  startJob(pane, token, 'tty');
  await pane.see(/^name\?/m, 'the prompt on /dev/tty');
  trackAll(token);
  pane.type('bob');
  const screen = await pane.see(/rc=\d+/, 'corral to exit');
  assert.match(screen, /^hello bob$/m);
  assert.match(screen, /rc=0/);
});
