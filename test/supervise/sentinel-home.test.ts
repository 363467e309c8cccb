import assert from 'node:assert/strict';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readRegistry, readRun, sentinels, workload } from './sentinel-kit.ts';

// A leader, its child, and a grandchild in a session of its own (out of the leader's session and group).
const JOB = ['sh', '-c', 'sh -c "setsid sleep 301 & wait" & wait'];

async function startThree(t: Tracker, token: string, home: string, env: NodeJS.ProcessEnv = {}) {
  const corral = startCorral(['run', '--grace', '1s', '--', ...JOB, token], { home, env: { CORRAL_TEST_TOKEN: token, ...env } });
  t.pid(corral.child.pid);
  const procs = await waitFor(() => {
    const w = workload(token, corral.child.pid);
    return w.length >= 3 && w.some((p) => p.cmd.startsWith('sleep 301')) ? w : null;
  }, 'leader, child and setsid grandchild', 15_000);
  for (const p of procs) t.pid(p.pid);
  // The sentinel's copy is written in the same poller pass as the registry, just before it.
  await waitFor(() => procs.every((p) => readRegistry(home).some((r) => r.pid === p.pid && r.starttime === p.starttime)), 'the registry to list all three');
  return { corral, procs };
}

describe('the sentinel does not depend on the home directory (issue 8 item 6)', { concurrency: 2 }, () => {
  for (const cgroup of ['default', 'off']) {
    it(`containment ${cgroup}: rm -rf of CORRAL_HOME, then SIGKILL of corral: all three processes die, the summary reaches corral's stderr`, async () => {
      const t = new Tracker();
      const token = t.token('home');
      const home = tempHome();
      let failed = true;
      try {
        const { corral, procs } = await startThree(t, token, home, cgroup === 'off' ? { CORRAL_CGROUP: 'off' } : {});
        rmSync(home, { recursive: true, force: true });
        corral.child.kill('SIGKILL');
        await waitFor(() => procs.every((p) => !isAlive(p)), 'the sentinel to stop all three', 15_000);
        const summary = await waitFor(() => /lost its supervisor; stopped (\d+) process/.exec(corral.output()), "the sentinel's summary on corral's stderr", 15_000);
        assert.ok(Number(summary[1]) >= 3, corral.output());
        assert.match(corral.output(), /its ledger is gone/);
        await waitFor(() => sentinels(token).length === 0, 'the sentinel to exit');
        assert.equal(existsSync(home), false, 'the sentinel re-created the home (and an empty ledger in it)');
        failed = false;
      } finally {
        const left = await t.cleanup();
        if (!failed) assert.deepEqual(left, [], 'the test had to kill leftovers itself');
      }
    });
  }

  it('a sentinel the job kills is replaced at once; the ledger names the new one, which still tears down after a SIGKILL of corral', async () => {
    const t = new Tracker();
    const token = t.token('replace');
    const home = tempHome();
    let failed = true;
    try {
      const { corral, procs } = await startThree(t, token, home);
      const first = readRun(home)!;
      const old = { pid: first.sentinel_pid!, starttime: first.sentinel_starttime! };
      assert.ok(isAlive(old), 'the first sentinel is up');
      process.kill(old.pid, 'SIGKILL'); // as a job that found it (ps, pgrep) would
      const now = await waitFor(() => {
        const r = readRun(home)!;
        return r.sentinel_pid !== old.pid && r.sentinel_pid ? { pid: r.sentinel_pid, starttime: r.sentinel_starttime! } : null;
      }, 'the ledger to name a new sentinel');
      t.pid(now.pid);
      assert.ok(isAlive(now), 'the new sentinel is alive');
      assert.equal(readStat(old.pid)?.starttime === old.starttime, false, 'the dead sentinel was collected, not left a zombie');
      const db = openLedger(join(home, 'ledger.sqlite'));
      const ev = db.prepare("SELECT data FROM events WHERE kind = 'sentinel-replaced'").all() as { data: string }[];
      db.close();
      assert.equal(ev.length, 1);
      assert.equal(JSON.parse(ev[0]!.data).new, now.pid);
      corral.child.kill('SIGKILL');
      const run = await waitFor(() => {
        const r = readRun(home);
        return r && r.status !== 'running' ? r : null;
      }, 'the new sentinel to record supervisor-lost', 15_000);
      assert.equal(run.stop_reason, 'supervisor-lost');
      await waitFor(() => procs.every((p) => !isAlive(p)), 'the new sentinel to stop all three', 15_000);
      await waitFor(() => !isAlive(now), 'the new sentinel to exit');
      failed = false;
    } finally {
      const left = await t.cleanup();
      if (!failed) assert.deepEqual(left, [], 'the test had to kill leftovers itself');
    }
  });
});
