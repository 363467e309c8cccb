import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { faketimeShared, LIBFAKETIME } from '../helpers/faketime.ts';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { startCorral, tempHome, type CorralProcess, type CorralResult } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

// A real clock step (NTP, `date -s`) moves CLOCK_REALTIME only. libfaketime models that: corral and
// everything it starts read the wall clock from a file the test rewrites mid-run (FAKETIME_NO_CACHE), and
// FAKETIME_DONT_FAKE_MONOTONIC leaves CLOCK_MONOTONIC (performance.now, setTimeout) alone, as a step does.
// The ledger and sentinel run under the fake clock too; the test itself reads the real one.


function needFaketime(ctx: { skip: (why: string) => void }): string | null {
  if (LIBFAKETIME) return LIBFAKETIME;
  if (process.env.CI === 'true') assert.fail('libfaketime is not installed (apt package faketime): the clock-step tests cannot run');
  ctx.skip('libfaketime not installed (apt package faketime)');
  return null;
}

function attempts(home: string): { n: number; stop_reason: string | null }[] {
  const db = openLedger(join(home, 'ledger.sqlite'));
  try {
    return db.prepare('SELECT n, stop_reason FROM attempts ORDER BY n').all() as { n: number; stop_reason: string | null }[];
  } finally {
    db.close();
  }
}

function startStepped(lib: string, home: string, token: string, args: string[]): { corral: CorralProcess; step: (offset: string) => void } {
  const rc = join(home, 'faketime.rc');
  writeFileSync(rc, '+0\n');
  const corral = startCorral(['run', ...args, '--', 'sh', '-c', 'sleep 0.4', token], {
    home,
    env: { CORRAL_TEST_TOKEN: token, LD_PRELOAD: lib, FAKETIME_TIMESTAMP_FILE: rc, FAKETIME_NO_CACHE: '1', FAKETIME_DONT_FAKE_MONOTONIC: '1', ...faketimeShared() },
  });
  return { corral, step: (offset) => writeFileSync(rc, `${offset}\n`) };
}

async function endWithin(corral: CorralProcess, ms: number): Promise<CorralResult | null> {
  return Promise.race([corral.done, new Promise<null>((r) => setTimeout(() => r(null), ms))]);
}

test('the wall clock stepped 2 h forward: a --max-runtime 1h job is not ended', async (ctx) => {
  const lib = needFaketime(ctx);
  if (!lib) return;
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('stepfwd');
  try {
    const { corral, step } = startStepped(lib, home, token, ['--restart', 'always', '--restart-delay', '200ms', '--max-runtime', '1h', '--grace', '500ms']);
    t.pid(corral.child.pid);
    await waitFor(() => attempts(home).length >= 1, 'the first attempt', 10_000, 100);
    step('+2h');
    // Every attempt after the step must run as before: a wall-clock max-runtime would end the next one
    // at once (2 h > 1 h) and corral would exit 124.
    await waitFor(() => attempts(home).filter((a) => a.stop_reason === 'exited').length >= 4 || corral.child.exitCode !== null, 'attempts after the step', 20_000, 100);
    assert.equal(corral.child.exitCode, null, `corral ended after the clock step:\n${corral.output()}`);
    assert.ok(attempts(home).every((a) => a.stop_reason !== 'max-runtime'), JSON.stringify(attempts(home)));
    corral.child.kill('SIGTERM');
    const res = await corral.done;
    assert.equal(res.code, 143, res.stderr);
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});

test('the wall clock stepped 1 h back: a --max-runtime 3s job still ends at about 3 s', async (ctx) => {
  const lib = needFaketime(ctx);
  if (!lib) return;
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('stepback');
  try {
    const started = performance.now();
    const { corral, step } = startStepped(lib, home, token, ['--restart', 'always', '--restart-delay', '200ms', '--max-runtime', '3s', '--grace', '500ms']);
    t.pid(corral.child.pid);
    await waitFor(() => attempts(home).length >= 1, 'the first attempt', 10_000, 100);
    step('-1h');
    // A wall-clock max-runtime would now have an hour left; the monotonic one ends at ~3 s.
    const res = await endWithin(corral, 15_000);
    assert.ok(res, `corral still running 15 s after a 3 s max-runtime:\n${corral.output()}`);
    const elapsed = performance.now() - started;
    assert.equal(res.code, 124, res.stderr);
    assert.ok(elapsed >= 3000 && elapsed < 12_000, `ended after ${Math.round(elapsed)}ms`);
    const rows = attempts(home);
    assert.ok(rows.length >= 2, `restarts happened across the step: ${JSON.stringify(rows)}`);
    assert.equal(rows.at(-1)!.stop_reason, 'max-runtime');
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});
