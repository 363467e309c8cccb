import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { startCorral, tempHome } from '../helpers/corral.ts';
import { faketimeShared } from '../helpers/faketime.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { readRegistry, readRun, sentinelLog, sentinels, workload } from './sentinel-kit.ts';

const LIBFAKETIME = '/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1';

/*
 * Issue 8 item 4, the sentinel's half: the wall clock is stepped back while the run is up, then corral is
 * SIGKILLed. The sentinel's teardown starts under the stepped clock. Had it turned the run's wall-clock
 * start into boot ticks (as it once did), the run would seem to start in the future, no process would be
 * young enough to be a member, and it would report "stopped 0 process(es)" while the job lived on.
 * libfaketime with DONT_FAKE_MONOTONIC=1 moves CLOCK_REALTIME only, as `date -s` or an NTP step does;
 * FAKETIME_NO_CACHE=1 makes every process re-read the offset file, so rewriting it steps the clock.
 */
describe('the sentinel after a wall-clock step back', { concurrency: 2 }, () => {
  for (const step of ['-5s', '-3600s']) {
    for (const cgroup of ['default', 'off']) {
      it(`clock ${step}, containment ${cgroup}: a SIGKILLed corral's sentinel still stops the job`, async (t) => {
        if (!existsSync(LIBFAKETIME)) {
          if (process.env.CI === 'true') assert.fail(`${LIBFAKETIME} is missing: install the faketime package`);
          return t.skip('libfaketime is not installed (apt package faketime)');
        }
        const tr = new Tracker();
        const token = tr.token('clock');
        const home = tempHome();
        const offset = join(mkdtempSync(join(tmpdir(), 'corral-faketime-')), 'offset');
        writeFileSync(offset, '+0s\n');
        const env = {
          CORRAL_TEST_TOKEN: token, LD_PRELOAD: LIBFAKETIME, FAKETIME_TIMESTAMP_FILE: offset, FAKETIME_NO_CACHE: '1', DONT_FAKE_MONOTONIC: '1', ...faketimeShared(),
          ...(cgroup === 'off' ? { CORRAL_CGROUP: 'off' } : {}),
        };
        const corral = startCorral(['run', '--grace', '1s', '--', 'sh', '-c', 'sleep 300 & wait', token], { home, env });
        tr.pid(corral.child.pid);
        let failed = true;
        try {
          const procs = await waitFor(() => {
            const w = workload(token, corral.child.pid);
            return w.length >= 2 ? w : null;
          }, 'the job and its sleep', 15_000);
          for (const p of procs) tr.pid(p.pid);
          await waitFor(() => procs.every((p) => readRegistry(home).some((r) => r.pid === p.pid)), 'the registry to list both');
          writeFileSync(offset, `${step}\n`);
          corral.child.kill('SIGKILL');
          const run = await waitFor(() => {
            const r = readRun(home);
            return r && r.status !== 'running' ? r : null;
          }, 'the sentinel to record supervisor-lost', 15_000);
          await waitFor(() => sentinels(token).length === 0, 'the sentinel to exit', 15_000);
          assert.equal(run.stop_reason, 'supervisor-lost');
          assert.deepEqual(workload(token, corral.child.pid).map((p) => `${p.pid} ${p.cmd}`), [], 'the job survived the sentinel');
          assert.match(sentinelLog(home, run.id), /stopped [1-9]\d* process/);
          failed = false;
        } finally {
          const left = await tr.cleanup();
          if (!failed) assert.deepEqual(left, [], 'the test had to kill leftovers itself');
        }
      });
    }
  }
});
