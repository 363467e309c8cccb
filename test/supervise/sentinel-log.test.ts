import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { reapChild, setChildSubreaper } from '../../src/os/ffi.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { BIN, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readRegistry, readRun, sentinelLog, workload } from './sentinel-kit.ts';

/*
 * Issue 16 item 2: the sentinel's log must tell the truth. A SIGKILLed supervisor is a zombie until its
 * parent collects it, and a zombie is not alive. And a clean run's sentinel must be collected by corral
 * itself: left for init, it is a zombie (or still alive) after corral has exited.
 */
describe("the sentinel's own log and exit (issue 16 item 2)", () => {
  it("a SIGKILLed corral that stays a zombie is not called 'still alive' in the sentinel's log", async () => {
    const t = new Tracker();
    const token = t.token('zombie');
    const home = tempHome();
    // Python's Popen never collects a child it is not asked about: corral stays a zombie after SIGKILL.
    const holder = spawn('python3', ['-c', 'import subprocess,sys,time; p=subprocess.Popen(sys.argv[1:]); print(p.pid, flush=True); time.sleep(600)',
      process.execPath, BIN, 'run', '--grace', '1s', '--', 'sh', '-c', 'sleep 300 & wait', token], { env: { ...process.env, CORRAL_HOME: home, CORRAL_TEST_TOKEN: token }, stdio: ['ignore', 'pipe', 'ignore'] });
    t.pid(holder.pid);
    let failed = true;
    let corralPid = 0;
    try {
      let out = '';
      holder.stdout!.on('data', (d: Buffer) => (out += d));
      corralPid = await waitFor(() => Number(out.trim()) || null, "corral's pid from its holder");
      t.pid(corralPid);
      const procs = await waitFor(() => {
        const w = workload(token, corralPid).filter((p) => p.pid !== holder.pid);
        return w.length >= 2 ? w : null;
      }, 'the job and its sleep', 15_000);
      for (const p of procs) t.pid(p.pid);
      await waitFor(() => procs.every((p) => readRegistry(home).some((r) => r.pid === p.pid)), 'the registry to list both');
      process.kill(corralPid, 'SIGKILL');
      const run = await waitFor(() => {
        const r = readRun(home);
        return r && r.status !== 'running' ? r : null;
      }, 'the sentinel to record supervisor-lost', 15_000);
      await waitFor(() => /lost its supervisor/.test(sentinelLog(home, run.id)), 'the summary in the log');
      assert.equal(readStat(corralPid)?.state, 'Z', 'the test holds corral as a zombie the whole time');
      const log = sentinelLog(home, run.id);
      assert.doesNotMatch(log, /still alive/, log);
      assert.ok(procs.every((p) => !isAlive(p)), 'the sentinel stopped the job');
      failed = false;
    } finally {
      holder.kill('SIGKILL');
      // With its holder gone, the zombie corral goes to init, which collects it.
      await waitFor(() => readStat(corralPid)?.state !== 'Z', 'the zombie corral to be collected').catch(() => {});
      const left = (await t.cleanup()).filter((id) => id.pid !== holder.pid);
      if (!failed) assert.deepEqual(left, [], 'the test had to kill leftovers itself');
    }
  });

  it("after a clean `corral run -- true` the sentinel is gone, not even a zombie, by the time corral has exited", async () => {
    // As a subreaper, this test inherits whatever corral leaves behind: a sentinel that outlives corral
    // becomes our zombie instead of vanishing into init, so it cannot escape notice.
    setChildSubreaper();
    for (let i = 0; i < 3; i++) {
      const home = tempHome();
      const corral = startCorral(['run', '-q', '--', 'true'], { home });
      const exited = new Promise<void>((r) => corral.child.once('exit', () => r()));
      await exited;
      const st = (() => {
        const run = readRun(home)!;
        const s = readStat(run.sentinel_pid!);
        return s && s.starttime === run.sentinel_starttime ? { pid: run.sentinel_pid!, state: s.state } : null;
      })();
      if (st) {
        // Collect it (a zombie of ours now, or soon) before failing, so nothing is left behind.
        await waitFor(() => reapChild(st.pid) !== null || !readStat(st.pid), 'the leftover sentinel to be collected', 5000).catch(() => {});
      }
      assert.equal(st, null, `run ${i + 1}: corral exited before collecting its sentinel (${JSON.stringify(st)})`);
      assert.equal((await corral.done).code, 0);
    }
  });
});
