import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ROOT, runCorral, tempHome } from '../helpers/corral.ts';
import { withTracker } from '../helpers/procs.ts';
import { readLedger } from '../jobs/pool-harness.ts';

/* `corral pool` through the real binary: usage errors start and write nothing; small pools run. */
const dir = () => mkdtempSync(join(tmpdir(), 'corral-pool-cli-'));

describe('corral pool: bad usage exits 2, starts nothing, writes nothing', { concurrency: 4 }, () => {
  const d = dir();
  const file = join(d, 'pool.yaml');
  writeFileSync(file, 'jobs: 2\nitems: [a]\nstages:\n  - run: true\n');
  const typo = join(d, 'typo.yaml');
  writeFileSync(typo, 'jobs: 2\nitems: [a]\nstages:\n  - run: true\n    timout: 1s\n');
  const CASES: [string, string[], RegExp][] = [
    ['no slots', ['pool', '--', 'true', ':::', 'a'], /expected --gpus \(e\.g\. 0-3\) or --jobs N, found neither/],
    ['no command or file', ['pool'], /expected --gpus/],
    ['no items', ['pool', '--jobs', '2', '--', 'echo', '{}'], /expected items after ::: or --items FILE/],
    ['unknown placeholder', ['pool', '--jobs', '2', '--', 'echo', '{ckpt}', ':::', 'a'], /unknown placeholder \{ckpt\}/],
    ['zero timeout', ['pool', '--jobs', '2', '--timeout', '0', '--', 'true', ':::', 'a'], /--timeout: expected a duration above zero/],
    ['bad halt', ['pool', '--jobs', '2', '--halt', 'soon', '--', 'true', ':::', 'a'], /--halt: expected never, soon-after:N or now-after:N/],
    ['file and flags', ['pool', file, '--halt', 'never', '--retries', '1'], /--retries, --halt: set these in .*pool\.yaml instead/],
    ['missing file', ['pool', join(d, 'nope.yaml')], /nope\.yaml/],
    ['misspelt key', ['pool', typo], /typo\.yaml:5:5.*timout.*did you mean timeout/s],
    ['resume with no ledger', ['pool', '--resume', 'last'], /no earlier pool run to resume/],
    ['bad preflight', ['pool', '--gpus', '0', '--preflight', 'reaper', '--', 'true', ':::', 'a'], /--preflight: expected one of ignore, warn, wait, reap, fail, found 'reaper' \(did you mean reap\?\)/],
    ['unknown flag', ['pool', '--jobz', '2', '--', 'true', ':::', 'a'], /unknown option '--jobz'/],
  ];
  for (const [name, args, message] of CASES) {
    it(name, async () => {
      const home = tempHome();
      const res = await runCorral(args, { home });
      assert.equal(res.code, 2, res.stderr);
      assert.match(res.stderr, message);
      assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
    });
  }

  it('resuming a run that is not a pool leaves the ledger as it was', async () => {
    const home = tempHome();
    await withTracker('notpool', async (env) => assert.equal((await runCorral(['run', '--', 'true'], { home, env })).code, 0));
    const before = readLedger(home);
    const res = await runCorral(['pool', '--resume', 'last'], { home });
    assert.equal(res.code, 2);
    assert.match(res.stderr, /no earlier pool run to resume/);
    const other = await runCorral(['pool', '--resume', before.runs[0]!.id], { home });
    assert.match(other.stderr, /is a 'run' run, not a pool/);
    assert.deepEqual(readLedger(home), before);
  });
});

describe('corral pool: small pools', { concurrency: 3 }, () => {
  it('a CPU pool from the command line: {#} and {}, ${VAR} left to the shell, one log per task, JSON', async () => {
    const out = dir();
    const home = tempHome();
    const res = await withTracker('cpu', (env) => runCorral(['pool', '--jobs', '2', '--json', '--', `echo {#} {} \${CUDA_VISIBLE_DEVICES-unset} > ${out}/{}.txt; echo logged {}`, ':::', 'x', 'y z', 'w'], { home, env }));
    assert.equal(res.code, 0, res.stderr);
    assert.equal(readFileSync(join(out, 'y z.txt'), 'utf8'), '2 y z unset\n');
    const json = JSON.parse(res.stdout) as { status: string; counts: Record<string, number>; tasks: { name: string; log: string; gpu: number | null }[] };
    assert.equal(json.status, 'succeeded');
    assert.equal(json.counts.succeeded, 3);
    assert.deepEqual(json.tasks.map((t) => t.name), ['task.1', 'task.2', 'task.3']);
    assert.equal(readFileSync(json.tasks[2]!.log, 'utf8'), 'logged w\n');
    assert.match(res.stderr, /run \S+ succeeded in .* \(exit status 0\)/);
    const jobs = readLedger(home).jobs;
    assert.deepEqual(jobs.map((j) => [j.role, j.stage, j.item, j.state]), [['task', 'task', 'x', 'succeeded'], ['task', 'task', 'y z', 'succeeded'], ['task', 'task', 'w', 'succeeded']]);
  });

  it('a GPU pool: each task gets its slot GPU as {gpu}, CUDA_VISIBLE_DEVICES and CORRAL_GPU', async () => {
    const out = dir();
    const items = Array.from({ length: 8 }, (_, i) => String(i + 1));
    const res = await withTracker('gpu', (env) => runCorral(['pool', '--gpus', '0-1', '--per-gpu', '2', '--preflight', 'ignore', '--', `echo {gpu} $CUDA_VISIBLE_DEVICES $CORRAL_GPU > ${out}/{}`, ':::', ...items], { home: tempHome(), env }));
    assert.equal(res.code, 0, res.stderr);
    const seen = items.map((i) => readFileSync(join(out, i), 'utf8').trim());
    for (const s of seen) assert.match(s, /^([01]) \1 \1$/);
    assert.deepEqual([...new Set(seen)].sort(), ['0 0 0', '1 1 1']);
  });

  it("the README's main command runs the shipped example pool and prints its summary", async () => {
    const copy = dir();
    cpSync(join(ROOT, 'examples'), copy, { recursive: true });
    const res = await withTracker('example', (env) => runCorral(['pool', join(copy, 'pool.yaml')], { home: tempHome(), env }));
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /ok evaluate\.8/);
    assert.match(res.stderr, /stage\s+ok\s+failed[\s\S]*sample\s+8\s+0[\s\S]*evaluate\s+8\s+0/);
    assert.ok(existsSync(join(copy, 'pool', 'out', '8.json')));
  });

  it('--help explains the command with examples', async () => {
    const res = await runCorral(['pool', '--help']);
    assert.equal(res.code, 0);
    assert.match(res.stdout, /corral pool --gpus 0-3 --per-gpu 2 -- python3 sample\.py --ckpt \{\} ::: a\.pt/);
    assert.match(res.stdout, /--resume <run>/);
  });
});
