import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { corralHome } from '../../src/ledger/location.ts';
import { registerProcesses } from '../../src/ledger/registry.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { readStat } from '../../src/proc/stat.ts';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';

const NOBODY = 65534;
const isRoot = process.getuid?.() === 0;
const t = new Tracker();
after(async () => {
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
});

// The attack of issue 9 item 2: a user owns the home root uses (sudo -E keeps CORRAL_HOME), and plants a
// run whose registry names a root process. Root's reap --run must refuse the ledger, not kill the process.
test("root refuses a ledger another user owns: a planted run cannot make root's reap kill a root process", { skip: !isRoot && 'needs root' }, async () => {
  const home = tempHome(NOBODY);
  const made = await runCorral(['run', '--', 'true'], { home, uid: NOBODY, gid: NOBODY, env: { HOME: home } });
  assert.equal(made.code, 0, `nobody makes its ledger: ${made.stderr}`);
  const token = t.token('victim');
  const victim = spawn('sleep', ['100000'], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token } });
  t.pid(victim.pid);
  const id = await waitFor(() => { const st = readStat(victim.pid!); return st && { pid: victim.pid!, starttime: st.starttime }; }, 'the victim');
  // what the user writes into the ledger they own
  const db = openLedger(join(home, 'ledger.sqlite'), { allowOwner: NOBODY });
  const runId = '20260101-000000-planted00000';
  insertRun(db, {
    id: runId, kind: 'run', name: 'planted', argv: '["sleep"]', cwd: '/', uid: 0, user: 'root', host: 'h', supervisor_pid: 1, supervisor_starttime: 1,
    config: '{}', started_at: Date.now() - 1000, boot_id: currentBootId(), start_ticks: ticksNow() - 100_000,
  });
  registerProcesses(db, runId, [{ ...id, jobId: null, ppid: 1, uid: 0, comm: 'sleep', cmdline: ['sleep', '100000'], how: 'session' }]);
  db.close();
  const res = await runCorral(['reap', '--run', runId, '--yes', '--grace', '200ms'], { home });
  assert.equal(res.code, 2, res.stdout + res.stderr);
  assert.match(res.stderr, new RegExp(`refusing ${home}: it is owned by nobody \\(uid ${NOBODY}\\), not by root \\(uid 0\\)`));
  assert.match(res.stderr, /fix: chown root .*or set CORRAL_HOME/);
  assert.doesNotMatch(res.stderr, /internal error|at .*\.ts:\d+/);
  assert.ok(isAlive(id), 'the root process is untouched');
  for (const cmd of [['history'], ['ps'], ['run', '--', 'true']]) {
    const r = await runCorral(cmd, { home });
    assert.equal(r.code, 2, `${cmd.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /refusing .*owned by nobody/);
  }
});

test('a home or ledger that group or other can write is refused, naming chmod go-w', async () => {
  const home = tempHome();
  assert.equal((await runCorral(['run', '--', 'true'], { home })).code, 0);
  chmodSync(home, 0o777);
  let res = await runCorral(['history'], { home });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, new RegExp(`refusing ${home}: group or other users can write it \\(mode 0777\\)`));
  assert.match(res.stderr, new RegExp(`fix: chmod go-w ${home}`));
  chmodSync(home, 0o700);
  chmodSync(join(home, 'ledger.sqlite'), 0o666);
  res = await runCorral(['run', '--', 'true'], { home });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, new RegExp(`refusing ${join(home, 'ledger.sqlite')}: group or other users can write it`));
});

test('a home under a directory another user owns is refused (they could swap it)', { skip: !isRoot && 'needs root' }, async () => {
  const parent = mkdtempSync(join(tmpdir(), 'corral-parent-'));
  chownSync(parent, NOBODY, NOBODY);
  const home = join(parent, 'home');
  mkdirSync(home, { mode: 0o700 });
  try {
    const res = await runCorral(['history'], { home });
    assert.equal(res.code, 2, res.stderr);
    assert.match(res.stderr, new RegExp(`its parent ${parent} is owned by nobody`));
  } finally {
    rmSync(parent, { recursive: true, force: true });
  }
});

test("root under sudo defaults to root's own home, not the invoking user's HOME or XDG_STATE_HOME", { skip: !isRoot && 'needs root' }, () => {
  const own = join(userInfo().homedir, '.local', 'state', 'corral');
  assert.equal(corralHome({ SUDO_USER: 'alice', HOME: '/home/alice', XDG_STATE_HOME: '/home/alice/.state' }), own);
  assert.equal(corralHome({ SUDO_USER: 'alice', HOME: '/home/alice', CORRAL_HOME: '/srv/corral' }), '/srv/corral', 'an explicit CORRAL_HOME is still used (and checked)');
  assert.equal(corralHome({ HOME: '/home/alice' }), '/home/alice/.local/state/corral', 'without sudo, HOME is taken as it is');
});

test('read-only commands never create a home or a ledger', async () => {
  const home = join(mkdtempSync(join(tmpdir(), 'corral-none-')), 'home');
  for (const cmd of [['history'], ['ps'], ['logs', 'nosuch'], ['reap'], ['strays', '--user', 'nosuchuser-xyz', '--json'], ['report', '--user', 'nosuchuser-xyz'], ['gpus', '--json']]) {
    const r = await runCorral(cmd, { home });
    assert.doesNotMatch(r.stderr, /internal error/, `${cmd.join(' ')}: ${r.stderr}`);
    assert.ok(!existsSync(home), `${cmd.join(' ')} created ${home}`);
  }
});
