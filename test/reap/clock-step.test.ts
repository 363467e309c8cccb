import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { afterEach, test } from 'node:test';
import type { PlanEntry } from '../../src/reap/plan.ts';
import { BIN, ROOT, runCorral, tempHome } from '../helpers/corral.ts';
import { faketimeShared, LIBFAKETIME } from '../helpers/faketime.ts';
import { Tracker } from '../helpers/procs.ts';
import { jobScript, loseRun, startRun } from '../cli/run-kit.ts';

// Under CI the tool is installed (.ci/run); a missing one fails there instead of skipping.
const missing = !LIBFAKETIME && process.env.CI !== 'true' && 'faketime is not installed';

let t = new Tracker();
afterEach(async () => {
  const left = await t.cleanup();
  t = new Tracker();
  assert.deepEqual(left, [], 'nothing was left for the tracker to kill');
});

/** corral with the wall clock stepped by OFFSET seconds (libfaketime); the monotonic clock and /proc/uptime are untouched. */
function corralAt(offset: string, args: string[], home: string) {
  assert.ok(LIBFAKETIME, 'libfaketime is installed (apt package faketime)');
  const res = spawnSync(process.execPath, [BIN, ...args], {
    cwd: ROOT, encoding: 'utf8', timeout: 60_000,
    env: { ...process.env, CORRAL_HOME: home, NO_COLOR: '1', LD_PRELOAD: LIBFAKETIME, FAKETIME: offset, DONT_FAKE_MONOTONIC: '1', ...faketimeShared() },
  });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

// issue 8 item 4: "started since" in boot-relative ticks; a wall clock set back once made this "nothing to reap"
test('with the wall clock set back 5 s or 1 h, reap --run last --dry-run still lists the lost run', { skip: missing }, async () => {
  const home = tempHome();
  const token = t.token('clock');
  const live = await startRun(t, home, token, [], jobScript('setsid sleep 100000 &\nsleep 100000 &\nexec sleep 100000'), 3);
  const pids = await loseRun(t, home, live, 3);
  for (const offset of ['-5', '-3600']) {
    const res = corralAt(offset, ['reap', '--run', 'last', '--dry-run', '--json'], home);
    assert.equal(res.code, 0, `${offset}: ${res.stdout}${res.stderr}`);
    const plan = (JSON.parse(res.stdout) as { plan: { targets: PlanEntry[] } }).plan;
    assert.deepEqual(plan.targets.map((x) => x.pid).sort(), [...pids].sort(), `the clock set back ${offset}`);
  }
  const reaped = await runCorral(['reap', '--run', 'last', '--yes', '--grace', '1s'], { home });
  assert.equal(reaped.code, 0, reaped.stdout + reaped.stderr);
});
