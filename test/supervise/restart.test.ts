import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { FIXTURES, runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

test('--restart always --max-runtime: every attempt is torn down before the next, and the limit ends the loop', async () => {
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('restart');
  const overlaps = join(home, 'overlaps');
  try {
    const res = await runCorral(['run', '--restart', 'always', '--restart-delay', '100ms', '--max-runtime', '3s', '--grace', '500ms', '--', join(FIXTURES, 'restart-attempt.sh'), token, overlaps], { home, env: { CORRAL_TEST_TOKEN: token } });
    assert.equal(res.code, 124, res.stderr);
    assert.equal(existsSync(overlaps) ? readFileSync(overlaps, 'utf8') : '', '', 'an attempt started while the previous one had processes alive');
    const db = openLedger(join(home, 'ledger.sqlite'));
    const attempts = db.prepare('SELECT n, stop_reason FROM attempts ORDER BY n').all() as { n: number; stop_reason: string }[];
    const run = db.prepare('SELECT status, stop_reason FROM runs').get() as { status: string; stop_reason: string };
    db.close();
    assert.ok(attempts.length >= 3, `only ${attempts.length} attempts`);
    assert.ok(attempts.slice(0, -1).every((a) => a.stop_reason === 'exited'));
    assert.equal(attempts.at(-1)!.stop_reason, 'max-runtime');
    assert.equal(run.stop_reason, 'max-runtime');
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});

test('--restart on-failure --max-restarts 2 gives three attempts and the last exit status', async () => {
  const home = tempHome();
  const res = await runCorral(['run', '--restart', 'on-failure', '--restart-delay', '10ms', '--max-restarts', '2', '--', 'sh', '-c', 'exit 7'], { home });
  assert.equal(res.code, 7);
  const db = openLedger(join(home, 'ledger.sqlite'));
  assert.equal((db.prepare('SELECT COUNT(*) AS n FROM attempts').get() as { n: number }).n, 3);
  db.close();
  const ok = await runCorral(['run', '--restart', 'on-failure', '--', 'true'], { home });
  assert.equal(ok.code, 0);
});

test('a second SIGINT kills at once instead of waiting out the grace period', async () => {
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('twice');
  try {
    const corral = startCorral(['run', '--grace', '60s', '--', join(FIXTURES, 'ignore-term.sh'), token, 'wait'], { home, env: { CORRAL_TEST_TOKEN: token } });
    t.pid(corral.child.pid);
    await waitFor(() => findByToken(token).filter((p) => p.cmd.includes(token)).length >= 3, 'fixture up');
    corral.child.kill('SIGINT');
    await waitFor(() => corral.output().includes('received SIGINT'), 'corral to start its graceful stop');
    const before = findByToken(token).filter((p) => p.cmd.includes(token));
    assert.ok(before.length >= 2, 'the SIGTERM-ignoring children are still there during the grace period');
    // With the second signal ignored, corral would wait out the 60 s grace: bound the wait and time it.
    const second = performance.now();
    corral.child.kill('SIGINT');
    const res = await Promise.race([corral.done, new Promise<null>((r) => setTimeout(() => r(null), 20_000))]);
    const elapsed = performance.now() - second;
    assert.ok(res, `corral still running 20 s after the second SIGINT (grace 60s):\n${corral.output()}`);
    assert.ok(elapsed < 8000, `corral took ${Math.round(elapsed)}ms after the second SIGINT; the grace is 60 s`);
    assert.equal(res.code, 130, res.stderr);
    assert.match(res.stderr, /second signal/);
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});
