// Borrowed from the kernel's cgroup selftest test_kill (tools/testing/selftests/cgroup/test_kill.c): a fork
// bomb of several thousand processes, then the cgroup reports `populated 0` and nothing is left. The bomb is
// bounded (test/fixtures/fork-tree.c: exactly COUNT processes, each ignoring SIGTERM, refilling as children
// die) so that it fits pid_max 32768 and a 2-core machine, and it runs in both containment modes.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, before, describe, it } from 'node:test';
import { cgroupPids } from '../../src/os/cgroup.ts';
import { FIXTURES, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { requireInCI, skipOrFail } from '../helpers/skip.ts';
import { MODES, assertContainment, needCgroups, recordedRuns } from './containment-kit.ts';

const COUNT = 3000;

function buildForkTree(): string | null {
  try {
    const out = join(mkdtempSync(join(tmpdir(), 'corral-forktree-')), 'fork-tree');
    execFileSync('cc', ['-O1', '-o', out, join(FIXTURES, 'fork-tree.c')], { stdio: 'ignore' });
    return out;
  } catch {
    return null;
  }
}

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'the test had to kill leftovers itself');
});

// One mode at a time: two bombs at once would only measure the machine.
describe('borrowed: kernel cgroup selftest test_kill (a fork bomb, then populated 0)', { concurrency: 1 }, () => {
  let bomb: string | null = null;
  before(() => {
    bomb = requireInCI(buildForkTree(), 'the fork-tree fixture (needs a C compiler)') ?? null;
  });
  for (const mode of MODES) {
    it(`${mode.name}: ${COUNT} SIGTERM-proof processes that refill, then SIGTERM to corral: nothing is left`, async (ctx) => {
      if (!bomb) return skipOrFail(ctx, 'no C compiler to build test/fixtures/fork-tree.c');
      if (!needCgroups(ctx, mode.cgroup)) return;
      const token = t.token('bomb');
      const ready = join(mkdtempSync(join(tmpdir(), 'corral-bomb-')), 'ready');
      const home = tempHome();
      const corral = startCorral(['run', '--grace', '500ms', '--', bomb, token, String(COUNT), ready, '--respawn'], { home, env: mode.env });
      t.pid(corral.child.pid);
      await waitFor(() => existsSync(ready) && readFileSync(ready, 'utf8').trim(), `${COUNT} processes up`, 60_000, 50);
      assert.equal(Number(readFileSync(ready, 'utf8')), COUNT);
      const [run] = recordedRuns(home);
      const jobCgroup = run!.jobs[0]?.cgroup;
      if (mode.cgroup) assert.ok(cgroupPids(jobCgroup!).length >= COUNT, 'the whole bomb is in the job cgroup');
      const sent = performance.now();
      corral.child.kill('SIGTERM');
      const res = await corral.done;
      const ms = Math.round(performance.now() - sent);
      ctx.diagnostic(`${mode.name}: corral ended ${COUNT} processes in ${ms} ms`);
      assert.equal(res.code, 143, res.stderr);
      const left = findByToken(token).filter((p) => p.state !== 'Z' && p.pid !== corral.child.pid);
      assert.deepEqual(left.map((p) => p.pid).slice(0, 20), [], `${left.length} process(es) of the bomb survived`);
      const [ended] = recordedRuns(home);
      assert.deepEqual([ended!.status, ended!.stop_reason], ['interrupted', 'signal']);
      assertContainment(ended!, ended!.jobs, mode.cgroup);
      if (mode.cgroup) {
        // corral removes the run cgroup at the end; rmdir succeeds only on an unpopulated cgroup, so a
        // missing directory is `populated 0`. Where it is still there, it must say so itself.
        for (const dir of [jobCgroup!, run!.cgroup!]) {
          if (existsSync(dir)) assert.match(readFileSync(join(dir, 'cgroup.events'), 'utf8'), /^populated 0$/m, `${dir} is still populated`);
        }
      }
    });
  }
});
