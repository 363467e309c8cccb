import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';

// Node's setTimeout turns any delay from 2^31 ms (24.8 days) on into 1 ms. Every limit and delay below is
// longer than that, and each one must behave as the long time it is, not as "now".

function attempts(home: string): { n: number; stop_reason: string | null }[] {
  const db = openLedger(join(home, 'ledger.sqlite'));
  try {
    return db.prepare('SELECT n, stop_reason FROM attempts ORDER BY id').all() as { n: number; stop_reason: string | null }[];
  } finally {
    db.close();
  }
}

test('--timeout 25d and --max-runtime 30d let a 2 s job finish (exit 0, not 124)', async () => {
  const home = tempHome();
  for (const flag of ['--timeout', '--max-runtime']) {
    const started = performance.now();
    const res = await runCorral(['run', flag, flag === '--timeout' ? '25d' : '30d', '--', 'sleep', '2'], { home });
    assert.equal(res.code, 0, `${flag}: ${res.stderr}`);
    assert.ok(performance.now() - started >= 1900, `${flag}: the job ran its 2 s`);
    assert.doesNotMatch(res.stderr, /TimeoutOverflowWarning/);
  }
  assert.deepEqual(attempts(home).map((a) => a.stop_reason), ['exited', 'exited']);
});

test('--restart-delay 30d --restart always: one attempt, then a real wait (no hot loop); SIGTERM ends it cleanly', async () => {
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('delay30d');
  try {
    const corral = startCorral(['run', '--restart', 'always', '--restart-delay', '30d', '--', 'sh', '-c', 'exit 0', token], { home, env: { CORRAL_TEST_TOKEN: token } });
    t.pid(corral.child.pid);
    await waitFor(() => corral.output().includes('restarts in'), 'the first attempt to end and the delay to start');
    // A hot loop makes hundreds of attempts in this time; a working 30-day delay makes none.
    const waitUntil = performance.now() + 2500;
    await waitFor(() => performance.now() >= waitUntil || attempts(home).length > 1, 'the delay to hold', 5000);
    assert.equal(attempts(home).length, 1, corral.output());
    corral.child.kill('SIGTERM');
    const res = await corral.done;
    assert.equal(res.code, 143, res.stderr);
    assert.equal(attempts(home).length, 1);
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});

test("the pool's timeout: 25d lets a task finish; backoff: 30d waits instead of retrying at once", async () => {
  const t = new Tracker();
  const home = tempHome();
  const token = t.token('poolbackoff');
  const file = join(home, 'pool.yaml');
  writeFileSync(file, `name: long
gpus: 0
per_gpu: 2
preflight: ignore
items: [a]
stages:
  - name: slow
    timeout: 25d
    run: sh -c 'sleep 1.5; echo done > ${home}/slow-{item}'
  - name: flaky
    retries: 3
    backoff: 30d
    run: sh -c 'exit 3' ${token}
`);
  try {
    const corral = startCorral(['pool', file], { home, env: { CORRAL_TEST_TOKEN: token } });
    t.pid(corral.child.pid);
    await waitFor(() => existsSync(join(home, 'slow-a')), 'the slow task to finish under its 25d timeout', 15_000);
    await waitFor(() => attempts(home).some((a) => a.stop_reason === 'exited' && a.n === 1 && attempts(home).length >= 2), 'the flaky task to fail once', 15_000);
    const waitUntil = performance.now() + 2500;
    await waitFor(() => performance.now() >= waitUntil || attempts(home).length > 2, 'the backoff to hold', 5000);
    const rows = attempts(home);
    assert.equal(rows.length, 2, `slow once, flaky once: ${JSON.stringify(rows)}\n${corral.output()}`);
    assert.ok(rows.every((a) => a.stop_reason === 'exited'), JSON.stringify(rows));
    corral.child.kill('SIGTERM');
    const res = await corral.done;
    assert.notEqual(res.code, 0, res.stderr);
    assert.deepEqual(findByToken(token).filter((p) => p.state !== 'Z'), []);
  } finally {
    assert.deepEqual(await t.cleanup(), []);
  }
});

test('absurd durations are a usage error (exit 2) naming the bound, and nothing starts', async () => {
  const home = tempHome();
  for (const args of [['--timeout', '1000000y'], ['--timeout', '99999999999999999999d'], ['--max-runtime', '3651d'], ['--restart-delay', '9'.repeat(400)], ['--grace', '100000000h']]) {
    const res = await runCorral(['run', ...args, '--', 'true'], { home });
    assert.equal(res.code, 2, `${args.join(' ')}: ${res.stderr}`);
    assert.match(res.stderr, new RegExp(args[0]!), args.join(' '));
    if (args[1] !== '1000000y') assert.match(res.stderr, /3650d/);
  }
  assert.equal(existsSync(join(home, 'ledger.sqlite')), false, 'nothing written');
});
