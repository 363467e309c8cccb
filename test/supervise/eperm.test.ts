import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { FIXTURES, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { buildSetuidHelper } from '../helpers/setuid.ts';
import { skipOrFail } from '../helpers/skip.ts';

const NOBODY = 65534;

// The sudo case turned around: corral runs as an ordinary user, the job becomes root through a setuid
// helper, and corral may not signal it. It must say so (owner, command to run), not crash or hang.
test('a job child that became root is reported with EPERM, its owner and the sudo line', { skip: process.getuid?.() !== 0 && 'needs root to install a setuid helper' }, async (ctx) => {
  const helper = buildSetuidHelper();
  if (!helper) return skipOrFail(ctx, 'no C compiler to build the setuid helper');
  const t = new Tracker();
  const home = tempHome(NOBODY);
  const token = t.token('eperm');
  let failed = true;
  try {
    const corral = startCorral(['run', '--grace', '300ms', '--', join(FIXTURES, 'setuid-child.sh'), token, 'wait'], {
      home, uid: NOBODY, gid: NOBODY,
      env: { CORRAL_TEST_TOKEN: token, CORRAL_TEST_SETUID_HELPER: helper, CORRAL_TEST_TARGET_UID: '0', HOME: home },
    });
    t.pid(corral.child.pid);
    const rootChild = await waitFor(() => findByToken(token).find((p) => p.cmd.includes('other-uid') && !p.cmd.includes('libexec/pyenv')), 'the root-owned child (past any python launcher shim)');
    t.pid(rootChild.pid);
    await waitFor(() => findByToken(token).some((p) => p.cmd.includes('leader')), 'the leader');
    corral.child.kill('SIGTERM');
    const res = await corral.done;
    assert.equal(res.code, 143, res.stderr);
    assert.match(res.stderr, /no cgroup: cannot create .* not writable/, 'an unprivileged user falls back and says why');
    assert.match(res.stderr, new RegExp(`still alive: pid ${rootChild.pid} \\(root`));
    assert.match(res.stderr, /not permitted to signal it: sudo corral reap --job \S+ --yes/);
    const db = openLedger(join(home, 'ledger.sqlite'), { allowOwner: NOBODY });
    const att = db.prepare('SELECT leftovers FROM attempts').get() as { leftovers: string };
    db.close();
    const left = JSON.parse(att.leftovers) as { pid: number; why: string; user: string; fix: string }[];
    assert.ok(left.some((l) => l.pid === rootChild.pid), JSON.stringify(left));
    assert.ok(left.every((l) => l.why === 'eperm' && l.user === 'root' && /sudo corral reap/.test(l.fix)), JSON.stringify(left));
    assert.ok(findByToken(token).some((p) => p.pid === rootChild.pid), 'it really is still alive');
    failed = false;
  } finally {
    // The one process corral could not stop is ours to kill; anything else left would be a bug.
    const killed = await t.cleanup();
    if (!failed) assert.ok(killed.length <= 1, `expected only the root child, killed ${killed.length}`);
  }
});

// With a cgroup delegated to the unprivileged user (as systemd does for user@.service), the same root-owned
// child is inside the job's cgroup, and cgroup.kill (which checks no per-process permission) removes it.
test('in a delegated cgroup, cgroup.kill removes the root-owned child an unprivileged corral may not signal', { skip: process.getuid?.() !== 0 && 'needs root to delegate a cgroup' }, async (ctx) => {
  const { findCgroup2Mount } = await import('../../src/os/cgroup.ts');
  const { mkdirSync, chownSync, rmdirSync, existsSync } = await import('node:fs');
  const mount = findCgroup2Mount();
  const own = (await import('node:fs')).readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1];
  if (!mount || own === undefined) return skipOrFail(ctx, 'no cgroup2 hierarchy');
  const deleg = join(mount, own, `corral-test-deleg-${process.pid}`);
  try {
    mkdirSync(deleg);
  } catch {
    return skipOrFail(ctx, 'cgroup2 is not writable here');
  }
  if (!existsSync(join(deleg, 'cgroup.kill'))) {
    rmdirSync(deleg);
    return skipOrFail(ctx, 'kernel without cgroup.kill');
  }
  for (const f of ['', 'cgroup.procs', 'cgroup.subtree_control', 'cgroup.threads']) chownSync(join(deleg, f), NOBODY, NOBODY);
  const helper = buildSetuidHelper();
  if (!helper) {
    rmdirSync(deleg);
    return skipOrFail(ctx, 'no C compiler to build the setuid helper');
  }
  const t = new Tracker();
  const home = tempHome(NOBODY);
  const token = t.token('deleg');
  let failed = true;
  try {
    // Root places the shell in the delegated cgroup, then it drops to nobody and becomes corral.
    const { ROOT, BIN } = await import('../helpers/corral.ts');
    const { spawn } = await import('node:child_process');
    const script = `echo $$ > ${join(deleg, 'cgroup.procs')} && exec setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups "$@"`;
    const corral = spawn('/bin/sh', ['-c', script, 'sh', process.execPath, BIN, 'run', '--grace', '300ms', '--', join(FIXTURES, 'setuid-child.sh'), token, 'wait'], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', CORRAL_HOME: home, HOME: home, CORRAL_TEST_TOKEN: token, CORRAL_TEST_SETUID_HELPER: helper, CORRAL_TEST_TARGET_UID: '0' },
    });
    let stderr = '';
    corral.stderr!.on('data', (d: Buffer) => (stderr += d));
    t.pid(corral.pid);
    const rootChild = await waitFor(() => findByToken(token).find((p) => p.cmd.includes('other-uid') && !p.cmd.includes('libexec/pyenv')), 'the root-owned child');
    await waitFor(() => findByToken(token).some((p) => p.cmd.includes('leader')), 'the leader');
    assert.match(stderr, /containment cgroup2/, 'the unprivileged corral used the delegated cgroup');
    corral.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => corral.once('exit', (c) => r(c)));
    assert.equal(code, 143, stderr);
    assert.doesNotMatch(stderr, /still alive/);
    assert.equal(findByToken(token).some((p) => p.pid === rootChild.pid && p.state !== 'Z'), false, 'cgroup.kill removed the root-owned child');
    failed = false;
  } finally {
    const killed = await t.cleanup();
    await waitFor(() => {
      try {
        rmdirSync(deleg);
        return true;
      } catch {
        return false;
      }
    }, 'the delegated cgroup to be removable', 5000).catch(() => {});
    if (!failed) assert.deepEqual(killed, []);
  }
});
