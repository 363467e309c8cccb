import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { withTracker } from '../helpers/procs.ts';
import { readLedger } from './pool-harness.ts';

/*
 * Issue 10 item 5: `corral pool --resume RUN` accepts overrides. The usual case: every task timed out,
 * so the resume gives a longer --timeout and more --jobs; the new run's record keeps them.
 */
describe('corral pool --resume with overrides', () => {
  it('--timeout and --jobs change the resumed pool: tasks that timed out now succeed', () => withTracker('ovr', async (env) => {
    const home = tempHome();
    const first = await runCorral(['pool', '-q', '--jobs', '1', '--timeout', '300ms', '--grace', '1s', '--', ': {}; sleep 1', ':::', 'a', 'b'], { home, env });
    assert.equal(first.code, 1, first.stderr);
    assert.deepEqual(readLedger(home).jobs.map((j) => j.stop_reason), ['timeout', 'timeout']);

    const second = await runCorral(['pool', '-q', '--resume', 'last', '--timeout', '30s', '--jobs', '2'], { home, env });
    assert.equal(second.code, 0, second.stderr);
    const l = readLedger(home);
    const run2 = l.runs[1]!;
    assert.deepEqual(l.jobs.filter((j) => j.run_id === run2.id).map((j) => j.state), ['succeeded', 'succeeded']);
    const pool = JSON.parse(run2.config!).pool;
    assert.equal(pool.slots.length, 2);
    assert.equal(pool.stages[0].timeoutMs, 30_000);
  }));

  it('with the pool file too; --jobs on a GPU pool and a bad value exit 2 and start nothing', () => withTracker('ovr-file', async (env) => {
    const home = tempHome();
    const d = mkdtempSync(join(tmpdir(), 'corral-ovr-'));
    const file = join(d, 'pool.yaml');
    writeFileSync(file, 'gpus: [900]\npreflight: ignore\nitems: [a]\nstages:\n  - run: sleep 1\n    timeout: 200ms\n    grace: 1s\n');
    assert.equal((await runCorral(['pool', '-q', file], { home, env })).code, 1);
    const bad = await runCorral(['pool', file, '--resume', 'last', '--jobs', '4'], { home, env });
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--jobs: the resumed pool runs on GPUs 900/);
    assert.match(bad.stderr, /--per-gpu N/);
    const zero = await runCorral(['pool', '--resume', 'last', '--timeout', '0'], { home, env });
    assert.equal(zero.code, 2);
    assert.match(zero.stderr, /--timeout: expected a duration above zero/);
    assert.equal(readLedger(home).runs.length, 1, 'nothing started');
    const ok = await runCorral(['pool', '-q', file, '--resume', 'last', '--timeout', '30s', '--per-gpu', '2'], { home, env });
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal(JSON.parse(readLedger(home).runs[1]!.config!).pool.slots.length, 2);
  }));
});
