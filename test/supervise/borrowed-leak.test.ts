// Borrowed from systemd's TEST-07-PID1 issue-14566: a pid the service leaked must be gone after stop.
// Here the job leaves a child that ignores SIGTERM and double-forks away into its own session, then the
// job exits 0; once corral returns, the leaked process must be gone, in both containment modes.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, it } from 'node:test';
import { isAlive } from '../../src/proc/identity.ts';
import { FIXTURES, runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { MODES, assertContainment, needCgroups, recordedRuns } from './containment-kit.ts';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'the test had to kill leftovers itself');
});

describe('borrowed: systemd issue-14566 (a leaked pid is gone after stop)', () => {
  for (const mode of MODES) {
    it(`${mode.name}: a SIGTERM-proof child that double-forked away dies when the job exits 0`, async (ctx) => {
      if (!needCgroups(ctx, mode.cgroup)) return;
      const token = t.token('leak');
      const pidfile = join(mkdtempSync(join(tmpdir(), 'corral-leak-')), 'leaked');
      const home = tempHome();
      const res = await runCorral(['run', '--grace', '500ms', '--', join(FIXTURES, 'leak-term-proof.sh'), pidfile], {
        home, env: { ...mode.env, CORRAL_TEST_TOKEN: token },
      });
      assert.equal(res.code, 0, `the job's own status\n${res.stderr}`);
      const [pid, starttime] = readFileSync(pidfile, 'utf8').trim().split(' ').map(Number);
      t.ids.push({ pid: pid!, starttime: starttime! });
      // Leaked PID will still be around if we're buggy (systemd's words); a zombie counts as gone.
      assert.ok(!isAlive({ pid: pid!, starttime: starttime! }), `the leaked process ${pid} survived the run`);
      const [run] = recordedRuns(home);
      assert.deepEqual([run!.status, run!.stop_reason], ['succeeded', 'exited']);
      assertContainment(run!, run!.jobs, mode.cgroup);
    });
  }
});
