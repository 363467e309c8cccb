import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';

/*
 * Issue 15: `corral run` ends with _exit(2) once Node has nothing left to do (src/os/prompt-exit.ts),
 * skipping Node's teardown. Nothing of what corral writes may be lost by that: the exit status, the
 * ledger's final row with the ledger closed (no -wal or -shm left behind), and corral's own last lines.
 */
test('a run that ends by _exit keeps its exit status, its closed ledger and its last lines', async () => {
  for (const [script, status, recorded] of [['exit 0', 0, 'succeeded'], ['exit 7', 7, 'failed'], ['kill -TERM $$', 143, 'failed']] as const) {
    const home = tempHome();
    const r = await runCorral(['run', '--', 'sh', '-c', script], { home });
    assert.equal(r.code, status, `${script}: ${r.stderr}`);
    assert.match(r.stderr, /corral: run \S+ ended: /, 'the last line reached stderr');
    assert.deepEqual(readdirSync(home).filter((f) => f.startsWith('ledger.sqlite-')), [], `${script}: the ledger was closed before the exit`);
    const db = new DatabaseSync(join(home, 'ledger.sqlite'), { readOnly: true });
    try {
      const run = db.prepare('SELECT status, exit_code, ended_at FROM runs').get() as { status: string; exit_code: number; ended_at: number | null };
      assert.equal(run.status, recorded, script);
      assert.equal(run.exit_code, status, script);
      assert.ok(run.ended_at, script);
    } finally {
      db.close();
    }
  }
});

test('a run that ends by _exit writes Node\'s compile cache first', async () => {
  const home = tempHome();
  const cache = join(home, 'compile-cache');
  // CORRAL_NO_BUNDLE: the sources, which Node compiles into its compile cache (the bundle has its own)
  const r = await runCorral(['run', '-q', '--', 'true'], { home, env: { NODE_COMPILE_CACHE: cache, CORRAL_NO_BUNDLE: '1' } });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(cache), 'the compile cache directory');
  const entries = readdirSync(cache, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  assert.ok(entries.length > 10, `the run's modules are in the compile cache: ${entries.length} files`);
});

test("a run asked for a CPU profile or V8 coverage exits through Node's teardown, which writes them", async () => {
  const { spawnSync } = await import('node:child_process');
  const { BIN } = await import('../helpers/corral.ts');
  const home = tempHome();
  const prof = join(home, 'prof');
  const cov = join(home, 'cov');
  const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-dir', prof, BIN, 'run', '-q', '--', 'true'], { env: { ...process.env, CORRAL_HOME: home }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(readdirSync(prof).filter((f) => f.endsWith('.cpuprofile')).length, 1, 'the CPU profile was written');
  const c = await runCorral(['run', '-q', '--', 'true'], { home, env: { NODE_V8_COVERAGE: cov } });
  assert.equal(c.code, 0, c.stderr);
  assert.ok(readdirSync(cov).some((f) => f.endsWith('.json')), 'the coverage was written');
});

test('a pool that ends by _exit keeps its exit status and its closed ledger', async () => {
  const home = tempHome();
  const r = await runCorral(['pool', '-q', '--jobs', '2', '--', 'sh', '-c', 'exit $0', ':::', '0', '3'], { home });
  assert.equal(r.code, 1, r.stderr);
  assert.deepEqual(readdirSync(home).filter((f) => f.startsWith('ledger.sqlite-')), [], 'the ledger was closed before the exit');
  const db = new DatabaseSync(join(home, 'ledger.sqlite'), { readOnly: true });
  try {
    const run = db.prepare('SELECT status, exit_code, ended_at FROM runs').get() as { status: string; exit_code: number; ended_at: number | null };
    assert.equal(run.exit_code, 1);
    assert.ok(run.ended_at);
    assert.equal((db.prepare("SELECT count(*) AS n FROM jobs WHERE state = 'failed'").get() as { n: number }).n, 1);
  } finally {
    db.close();
  }
});
