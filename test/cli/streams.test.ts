import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { exitOf, readLedger, spawnCorral } from './streams-kit.ts';

// Issue 9 item 7: stream errors (a full disk, an unwritable --log, a closed stdout or stderr, a closed
// terminal) never crash corral; the exit status and the ledger say what happened to the job.
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing may be left alive'));

test('an unwritable --log FILE is a usage error (exit 2) before the job starts', async () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'corral-ro-'));
  const marker = join(dir, 'started');
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=64k', 'tmpfs', join(dir)]);
  try {
    const res = await runCorral(['run', '--log', join(dir, 'job.log'), '--', 'touch', marker], { home });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, /job\.log.*EROFS/);
    assert.doesNotMatch(res.stderr, /at .*\.ts:\d+/, 'no stack trace');
  } finally {
    execFileSync('umount', [dir]);
  }
  assert.equal(existsSync(marker), false, 'the job never ran');
  assert.deepEqual(readdirSync(home), [], 'nothing written to the ledger');
  rmSync(dir, { recursive: true });
});

test('a full disk (ENOSPC) cuts the log: corral keeps supervising, says so once, records it, and exits with the job\'s status', async () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'corral-full-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', dir]);
  const log = join(dir, 'job.log');
  const after = join(home, 'after-the-cut');
  try {
    // 300 KB into a 64 KB disk, then the job goes on and ends with its own status
    const res = await runCorral(['run', '--log', log, '--', 'sh', '-c', `head -c 300000 /dev/zero; echo; touch ${after}; exit 3`], { home });
    assert.equal(res.code, 3, res.stderr);
    assert.doesNotMatch(res.stderr, /internal error|at .*\.ts:\d+/);
    assert.equal(res.stderr.match(/log .*job\.log cut \(ENOSPC/g)?.length, 1, `one line about the cut: ${res.stderr}`);
    assert.ok(existsSync(after), 'the job ran on after the disk filled');
    const ledger = readLedger(home);
    assert.equal(ledger.runs[0]!.status, 'failed');
    assert.equal(ledger.runs[0]!.exit_code, 3);
    const cut = ledger.events.find((e) => e.kind === 'log-cut');
    assert.equal(cut?.data.code, 'ENOSPC');
    assert.equal(cut?.data.file, log);
  } finally {
    execFileSync('umount', [dir]);
    rmSync(dir, { recursive: true });
  }
});

test("corral's stdout closed while echoing (--log ... | head -c 1): no EPIPE crash, the job runs on, its log is whole", async () => {
  const home = tempHome();
  const log = join(home, 'job.log');
  const corral = spawnCorral(['run', '--log', log, '--', 'sh', '-c', 'head -c 2000000 /dev/zero; echo END; exit 5'], home, ['ignore', 'pipe', 'pipe']);
  t.pid(corral.pid);
  let stderr = '';
  corral.stderr!.on('data', (d) => (stderr += d));
  corral.stdout!.once('data', () => corral.stdout!.destroy()); // the reader goes away after its first chunk
  const { code } = await exitOf(corral);
  assert.equal(code, 5, stderr);
  assert.doesNotMatch(stderr, /EPIPE|internal error/);
  assert.equal(statSync(log).size, 2_000_000 + 'END\n'.length, 'logging went on after the echo stopped');
  assert.equal(readLedger(home).runs[0]!.exit_code, 5);
});

test('corral\'s stderr a closed pipe: a run and a pool end with the truth in the exit status and the ledger', async () => {
  const home = tempHome();
  for (const args of [['run', '--', 'sh', '-c', 'sleep 0.3; exit 0'], ['pool', '--jobs', '1', '--', 'sh', '-c', 'sleep 0.2; echo {}', ':::', 'a', 'b']]) {
    const corral = spawnCorral(args, home, ['ignore', 'ignore', 'pipe']);
    t.pid(corral.pid);
    corral.stderr!.destroy(); // nobody reads corral's messages: every write to stderr fails with EPIPE
    const { code } = await exitOf(corral);
    assert.equal(code, 0, args[0]);
    const run = readLedger(home).runs.at(-1)!;
    assert.equal(run.status, 'succeeded', `${args[0]}: ${JSON.stringify(run)}`);
    assert.equal(run.exit_code, 0);
  }
});

test('the terminal closed (tmux server killed) is SIGHUP: the run is interrupted, exit status 129, not lost', async () => {
  const home = tempHome();
  const dir = mkdtempSync(join(tmpdir(), 'corral-tmux-'));
  const sock = join(dir, 'tmux.sock');
  const token = t.token('hup');
  const status = join(dir, 'status');
  mkdirSync(dir, { recursive: true });
  // the pane's shell runs corral, then records its exit status (if it still can: the pane is gone)
  const cmd = `CORRAL_HOME=${home} NO_COLOR=1 ${process.execPath} ${BIN} run -- sh -c 'sleep 60; : ${token}'; echo $? > ${status}`;
  execFileSync('tmux', ['-S', sock, 'new-session', '-d', '-x', '80', '-y', '24', cmd]);
  try {
    const started = () => {
      try {
        return readLedger(home).events.some((e) => e.kind === 'attempt-start');
      } catch {
        return false; // the ledger is still being created
      }
    };
    await waitFor(started, 'the run to start in tmux', 20_000);
    execFileSync('tmux', ['-S', sock, 'kill-server']);
    const run = await waitFor(() => {
      const r = readLedger(home).runs[0]!;
      return r.status !== 'running' ? r : null;
    }, 'the run to end', 20_000);
    assert.equal(run.status, 'interrupted', JSON.stringify(run));
    assert.equal(run.stop_reason, 'signal');
    assert.equal(run.exit_code, 129);
    // corral records the end, then closes its sentinel and exits: wait for that, never a fixed sleep
    await waitFor(() => t.alive().length === 0, 'corral to exit after recording the run', 10_000);
  } finally {
    try {
      execFileSync('tmux', ['-S', sock, 'kill-server'], { stdio: 'ignore' });
    } catch {
      /* already gone: only our own server, by its own socket */
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
