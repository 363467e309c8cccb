import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { startCorral, tempHome, type CorralProcess, type CorralResult } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { buildSetuidHelper } from '../helpers/setuid.ts';

const NOBODY = 65534;
const notRoot = process.getuid?.() !== 0 && 'needs root to install a setuid helper and run corral as nobody';

/** The setuid helper, or a failure under CI (nothing may skip there for a missing tool). */
function helperOrSkip(ctx: { skip: (why: string) => void }): string | null {
  const helper = buildSetuidHelper();
  if (helper) return helper;
  if (process.env.CI === 'true') assert.fail('no C compiler (cc) to build test/fixtures/setuid-helper.c');
  ctx.skip('no C compiler to build the setuid helper');
  return null;
}

/** corral's end, or a failure naming the hang: without a bound this test would wait 300 s. */
async function endWithin(corral: CorralProcess, ms: number, what: string): Promise<CorralResult> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`corral still running ${ms}ms after ${what}:\n${corral.output()}`)), ms)));
  try {
    return await Promise.race([corral.done, hang]);
  } finally {
    clearTimeout(timer);
  }
}

// The leader itself becomes root through a setuid helper (sudo without a password), while corral runs as
// nobody: corral may not signal it. The run must end within grace + unkillable + a few seconds and say
// what is left and how to remove it, instead of waiting for the leader's exit for ever.
test('a leader corral may not signal: the timeout ends the run within a bound, with the EPERM report', { skip: notRoot }, async (ctx) => {
  const helper = helperOrSkip(ctx);
  if (!helper) return;
  const t = new Tracker();
  const home = tempHome(NOBODY);
  const token = t.token('epermleader');
  let failed = true;
  try {
    const started = performance.now();
    const corral = startCorral(['run', '--timeout', '2s', '--grace', '1s', '--', helper, 'sleep', '300'], {
      home, uid: NOBODY, gid: NOBODY, env: { CORRAL_TEST_TOKEN: token, CORRAL_TEST_TARGET_UID: '0', HOME: home },
    });
    t.pid(corral.child.pid);
    const leader = await waitFor(() => findByToken(token).find((p) => p.cmd === 'sleep 300'), 'the root-owned leader');
    t.pid(leader.pid);
    // 2 s timeout + 1 s grace + 5 s unkillable + start-up and the final sweep on 2 busy cores
    const res = await endWithin(corral, 25_000, 'the timeout');
    const elapsed = performance.now() - started;
    assert.equal(res.code, 124, res.stderr);
    assert.ok(elapsed >= 2000 && elapsed < 20_000, `ended after ${Math.round(elapsed)}ms`);
    assert.match(res.stderr, new RegExp(`still alive: pid ${leader.pid} \\(root, state \\w\\) sleep 300`));
    assert.match(res.stderr, /not permitted to signal it: sudo corral reap --job \S+ --yes/);
    assert.equal(res.stderr.match(/still alive: pid/g)?.length, 1, 'the leftover is reported once');
    const db = openLedger(join(home, 'ledger.sqlite'), { allowOwner: NOBODY });
    const att = db.prepare('SELECT stop_reason, leftovers FROM attempts').all() as { stop_reason: string; leftovers: string }[];
    db.close();
    assert.equal(att.length, 1);
    assert.equal(att[0]!.stop_reason, 'timeout');
    assert.ok((JSON.parse(att[0]!.leftovers) as { pid: number; why: string }[]).some((l) => l.pid === leader.pid && l.why === 'eperm'), att[0]!.leftovers);
    assert.ok(findByToken(token).some((p) => p.pid === leader.pid && p.state !== 'Z'), 'the leader really is still alive');
    failed = false;
  } finally {
    const killed = await t.cleanup();
    rmSync(dirname(helper), { recursive: true, force: true }); // a setuid-root binary must not linger in /tmp
    if (!failed) assert.ok(killed.length <= 1, `expected only the root-owned leader, killed ${killed.length}`);
  }
});

test('a second SIGINT ends corral at once even while it waits on a leader it may not signal', { skip: notRoot }, async (ctx) => {
  const helper = helperOrSkip(ctx);
  if (!helper) return;
  const t = new Tracker();
  const home = tempHome(NOBODY);
  const token = t.token('epermint');
  let failed = true;
  try {
    // A 60 s grace: the first SIGINT leaves corral waiting up to grace + unkillable for the leader.
    const corral = startCorral(['run', '--grace', '60s', '--', helper, 'sleep', '300'], {
      home, uid: NOBODY, gid: NOBODY, env: { CORRAL_TEST_TOKEN: token, CORRAL_TEST_TARGET_UID: '0', HOME: home },
    });
    t.pid(corral.child.pid);
    const leader = await waitFor(() => findByToken(token).find((p) => p.cmd === 'sleep 300'), 'the root-owned leader');
    t.pid(leader.pid);
    corral.child.kill('SIGINT');
    await waitFor(() => corral.output().includes('received SIGINT'), 'corral to start its graceful stop');
    const first = await Promise.race([corral.done, new Promise<null>((r) => setTimeout(() => r(null), 1500))]);
    assert.equal(first, null, 'the first SIGINT alone does not end the wait on the leader at once (it has its grace)');
    const second = performance.now();
    corral.child.kill('SIGINT');
    const res = await endWithin(corral, 15_000, 'the second SIGINT');
    const elapsed = performance.now() - second;
    assert.equal(res.code, 130, res.stderr);
    assert.ok(elapsed < 5000, `corral took ${Math.round(elapsed)}ms after the second SIGINT`);
    assert.match(res.stderr, /second signal/);
    assert.match(res.stderr, new RegExp(`still alive: pid ${leader.pid} \\(root`));
    assert.match(res.stderr, /sudo corral reap/);
    failed = false;
  } finally {
    const killed = await t.cleanup();
    rmSync(dirname(helper), { recursive: true, force: true }); // a setuid-root binary must not linger in /tmp
    if (!failed) assert.ok(killed.length <= 1, `expected only the root-owned leader, killed ${killed.length}`);
  }
});
