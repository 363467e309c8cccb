import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedgerToRead } from '../../src/ledger/db.ts';
import { startCorral, runCorral, tempHome, ROOT } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

const isRoot = process.getuid?.() === 0;
const t = new Tracker();
after(async () => {
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
});

/** A small tmpfs the test mounts itself as CORRAL_HOME (0700, root's), unmounted and removed afterwards. */
function smallFs(size: string): { dir: string; dispose: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'corral-fs-'));
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size},mode=0700`, 'tmpfs', dir]);
  return {
    dir,
    dispose: () => {
      execFileSync('umount', ['-l', dir]);
      rmdirSync(dir);
    },
  };
}

const noStack = (s: string) => assert.doesNotMatch(s, /internal error|\n\s+at .*:\d+:\d+/, s);

test('a ledger locked for 8 s while the job ends: exit 0, and the run is recorded once the lock is gone', async () => {
  const home = tempHome();
  const token = t.token('busy');
  const gate = join(home, 'go');
  const corral = startCorral(['run', '--', 'sh', '-c', `while [ ! -e ${gate} ]; do sleep 0.05; done; exit 0`], { home, env: { CORRAL_TEST_TOKEN: token } });
  t.pid(corral.child.pid);
  await waitFor(() => findByToken(token).some((p) => p.cmd.startsWith('sh -c')), 'the job');
  // another process takes the write lock and keeps it 8 s (longer than SQLite's 5 s busy timeout)
  const holder = spawn(process.execPath, ['-e', `
    const { DatabaseSync } = require('node:sqlite');
    const db = new DatabaseSync(${JSON.stringify(join(home, 'ledger.sqlite'))});
    db.exec('BEGIN EXCLUSIVE'); console.log('locked');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, 8000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
  t.pid(holder.pid);
  await new Promise((r) => holder.stdout!.once('data', r));
  const released = new Promise((r) => holder.once('exit', r));
  writeFileSync(gate, '');
  const res = await corral.done;
  assert.equal(res.code, 0, res.stderr);
  noStack(res.stderr);
  await released;
  const hist = await runCorral(['history', '--json'], { home });
  const run = (JSON.parse(hist.stdout) as { status: string; exitCode?: number; exit_code?: number }[])[0]!;
  assert.equal(run.status, 'succeeded', hist.stdout);
  // every final write was retried past the lock, none skipped: the attempt and the job are recorded too
  const db = openLedgerToRead(join(home, 'ledger.sqlite'));
  const attempt = db.prepare('SELECT exit_code, ended_at FROM attempts').get() as { exit_code: number | null; ended_at: number | null };
  const job = db.prepare('SELECT state, exit_code FROM jobs').get() as { state: string; exit_code: number | null };
  db.close();
  assert.deepEqual({ attempt: attempt.exit_code, ended: attempt.ended_at !== null, job: job.state, jobExit: job.exit_code }, { attempt: 0, ended: true, job: 'succeeded', jobExit: 0 });
  assert.doesNotMatch(res.stderr, /could not be updated|were lost/);
});

test('a full disk under the ledger: the job keeps its exit status, and one line names the ledger', { skip: !isRoot && 'needs root to mount a tmpfs' }, async () => {
  const fs = smallFs('1m');
  try {
    const token = t.token('full');
    // the job fills the file system the ledger is on, then succeeds
    const res = await runCorral(['run', '--', 'sh', '-c', 'sleep 0.3; dd if=/dev/zero of="$CORRAL_HOME/fill" bs=64k 2>/dev/null; exit 0'], { home: fs.dir, env: { CORRAL_TEST_TOKEN: token } });
    assert.equal(res.code, 0, res.stderr);
    noStack(res.stderr);
    assert.match(res.stderr, new RegExp(`the ledger ${fs.dir}/ledger.sqlite could not be updated \\(no space left on its file system\\): run \\S+ ended succeeded, exit status 0`));
    // a full disk before anything starts: one line, exit 2, no job
    const early = await runCorral(['run', '--', 'sh', '-c', `echo ${token}-started > /dev/null`], { home: fs.dir });
    assert.equal(early.code, 2, early.stderr);
    noStack(early.stderr);
    assert.match(early.stderr, /cannot write the ledger .*no space left.*\n {2}fix: free space/);
  } finally {
    fs.dispose();
  }
});

test('a read-only ledger: history, ps, strays, report, logs and reap work and write nothing; run says why it cannot start', { skip: !isRoot && 'needs root to mount a tmpfs' }, async () => {
  const fs = smallFs('4m');
  try {
    const made = await runCorral(['run', '--name', 'before-ro', '--', 'true'], { home: fs.dir });
    assert.equal(made.code, 0, made.stderr);
    execFileSync('mount', ['-o', 'remount,ro', fs.dir]);
    const hist = await runCorral(['history'], { home: fs.dir });
    assert.equal(hist.code, 0, hist.stderr);
    assert.match(hist.stdout, /before-ro .*succeeded/);
    for (const cmd of [['ps'], ['history', '--json'], ['strays', '--user', 'nosuchuser-xyz', '--json'], ['report', '--user', 'nosuchuser-xyz'], ['logs', 'last'], ['reap', '--run', 'last', '--dry-run']]) {
      const r = await runCorral(cmd, { home: fs.dir, cwd: ROOT });
      noStack(r.stderr);
      assert.ok(r.code === 0 || (cmd[0] === 'logs' && r.code === 2), `${cmd.join(' ')}: ${r.code} ${r.stderr}`);
    }
    const run = await runCorral(['run', '--', 'true'], { home: fs.dir });
    assert.equal(run.code, 2, run.stderr);
    noStack(run.stderr);
    assert.match(run.stderr, new RegExp(`cannot write the ledger ${fs.dir}/ledger.sqlite: .*read-only.*\\n {2}fix: .*CORRAL_HOME`));
  } finally {
    fs.dispose();
  }
});
