import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { appendFileSync, cpSync, existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ROOT, tempHome } from '../helpers/corral.ts';
import { withTracker } from '../helpers/procs.ts';

// scripts/build-bundle.ts and bin/corral.js's choice between a command's bundle (build/cli/X.cjs) and
// src/, on a copy of the checkout: the bundle runs while its sources are unchanged, src/ once one changed
// or CORRAL_NO_BUNDLE=1, and a bundled run finds corral's own files (bin/corral.js for its sentinel)
// where src/ would.
const copy = mkdtempSync(join(tmpdir(), 'corral-bundle-'));
after(() => rmSync(copy, { recursive: true, force: true }));
for (const part of ['bin', 'src', 'scripts', 'package.json']) cpSync(join(ROOT, part), join(copy, part), { recursive: true });
symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
const BIN = join(copy, 'bin', 'corral.js');
const PS_DESCRIPTION = 'live runs: per job a process tree';
const RUN_DESCRIPTION = 'run one job (and its sidecars) under full containment';

function psHelp(env: NodeJS.ProcessEnv = {}): string {
  return execFileSync(process.execPath, [BIN, 'ps', '--help'], { env: { ...process.env, ...env, NO_COLOR: '1' }, encoding: 'utf8' });
}

test('a command runs from its bundle while the sources it was built from are unchanged, from src/ after an edit or with CORRAL_NO_BUNDLE=1', () => {
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-bundle.ts'), '--quiet']);
  const psBundle = join(copy, 'build', 'cli', 'ps.cjs');
  assert.ok(existsSync(psBundle) && existsSync(join(copy, 'build', 'cli', 'run.cjs')), 'one bundle per command');
  // mark the bundle (not its sources): what runs shows which of the two it was
  writeFileSync(psBundle, readFileSync(psBundle, 'utf8').replace(PS_DESCRIPTION, 'FROM-THE-BUNDLE'));
  assert.match(psHelp(), /FROM-THE-BUNDLE/, 'the fresh bundle runs');
  assert.match(psHelp({ CORRAL_NO_BUNDLE: '1' }), new RegExp(PS_DESCRIPTION), 'CORRAL_NO_BUNDLE=1 runs src/');

  // a rebuild with nothing changed keeps build/ as it is (other corral processes may be loading from it)
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-bundle.ts'), '--quiet']);
  assert.match(psHelp(), /FROM-THE-BUNDLE/, 'an up-to-date build/ is not rebuilt');

  appendFileSync(join(copy, 'src', 'cli', 'ps.ts'), '\n// edited after the build\n');
  const after = psHelp();
  assert.doesNotMatch(after, /FROM-THE-BUNDLE/, 'an edited source is never hidden by a stale bundle');
  assert.match(after, new RegExp(PS_DESCRIPTION));
});

test('a bundled run supervises its job, and its sentinel runs the bin/corral.js beside the bundle', async () => {
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-bundle.ts'), '--quiet']);
  const runBundle = join(copy, 'build', 'cli', 'run.cjs');
  writeFileSync(runBundle, readFileSync(runBundle, 'utf8').replace(RUN_DESCRIPTION, 'FROM-THE-BUNDLE'));
  assert.match(execFileSync(process.execPath, [BIN, 'run', '--help'], { encoding: 'utf8' }), /FROM-THE-BUNDLE/, 'run comes from its bundle');
  await withTracker('bundle-run', async (env) => {
    // the job's siblings are the supervisor's other children: its sentinel among them
    const r = spawnSync(process.execPath, [BIN, 'run', '-q', '--', 'sh', '-c', 'echo "run=$CORRAL_RUN_ID"; ps -o args= --ppid $PPID'], {
      env: { ...process.env, ...env, CORRAL_HOME: tempHome(), NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000,
    });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /^run=\d{8}-\d{6}-\w+$/m, r.stdout);
    const sentinel = r.stdout.split('\n').find((l) => l.includes('read -r line'));
    assert.ok(sentinel?.includes(` ${BIN}`), `the sentinel runs ${BIN}: ${sentinel}`);
  });
});

/*
 * Issue 15: the run bundle's V8 code cache (bin/bundle-loader.cjs), made at build time by a warm-up run,
 * holds every function that run compiled. bin takes it only for the build it was made with, and a cache
 * V8 refuses (another Node, other flags, damaged) only costs the compile it would have saved.
 */
test('the run bundle comes with a code cache from a warm-up run, used only for its own build, and a refused one changes nothing but time', () => {
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-bundle.ts'), '--quiet', '--force']);
  const runBundle = join(copy, 'build', 'cli', 'run.cjs');
  const cacheFile = `${runBundle}.cache`;
  const cache = readFileSync(cacheFile);
  const firstLine = cache.toString('latin1', 0, cache.indexOf(10));
  assert.match(firstLine, /^\/\/ corral-build [0-9a-f]{16}$/);
  assert.equal(readFileSync(runBundle, 'utf8').trimEnd().split('\n').pop(), firstLine, "the bundle ends with its build's id");
  assert.ok(cache.length > 100_000, `the cache holds the run's compiled functions, not only the top level: ${cache.length} bytes`);
  const run = () => spawnSync(process.execPath, [BIN, 'run', '-q', '--', 'sh', '-c', 'exit 7'], {
    env: { ...process.env, CORRAL_HOME: tempHome(), NO_COLOR: '1', CORRAL_DEBUG_BUNDLE: '1' }, encoding: 'utf8', timeout: 60_000,
  });
  const used = run();
  assert.equal(used.status, 7, used.stderr);
  assert.match(used.stderr, /run\.cjs: code cache used$/m);
  try {
    writeFileSync(cacheFile, Buffer.concat([Buffer.from('// corral-build 0123456789abcdef\n'), cache.subarray(firstLine.length + 1)]));
    const other = run();
    assert.equal(other.status, 7, other.stderr);
    assert.match(other.stderr, /run\.cjs: no code cache of this build: loaded by require\(\)$/m, "another build's cache is never used");
    writeFileSync(cacheFile, Buffer.concat([Buffer.from(`${firstLine}\n`), Buffer.alloc(cache.length - firstLine.length - 1, 0x5a)]));
    const refused = run();
    assert.equal(refused.status, 7, refused.stderr);
    assert.match(refused.stderr, /run\.cjs: code cache refused by V8/m, 'a damaged cache is refused, and the run goes on');
  } finally {
    writeFileSync(cacheFile, cache);
  }
  // the pool's bundle has one too, from a small pool
  const pool = spawnSync(process.execPath, [BIN, 'pool', '-q', '--jobs', '1', '--', 'true', ':::', '1'], {
    env: { ...process.env, CORRAL_HOME: tempHome(), NO_COLOR: '1', CORRAL_DEBUG_BUNDLE: '1' }, encoding: 'utf8', timeout: 60_000,
  });
  assert.equal(pool.status, 0, pool.stderr);
  assert.match(pool.stderr, /pool\.cjs: code cache used$/m);
  // and the read-only scan's
  const strays = spawnSync(process.execPath, [BIN, 'strays', '--json'], {
    env: { ...process.env, CORRAL_HOME: tempHome(), NO_COLOR: '1', CORRAL_DEBUG_BUNDLE: '1' }, encoding: 'utf8', timeout: 60_000, maxBuffer: 1 << 28,
  });
  assert.equal(strays.status, 0, strays.stderr);
  assert.match(strays.stderr, /strays\.cjs: code cache used$/m);
});

/*
 * Issue 15: each Node builtin a command loads costs start-up time. `corral run` needs none of
 * node:fs/promises (which brings readline and the REPL's history), perf_hooks (the global `performance`) or
 * fs's streams: bin/corral.js takes its builtins without the ES module facade (which reads every export of
 * node:fs), and src/ reads the monotonic clock through process.hrtime (src/proc/clock.ts monotonicMs).
 */
test('a bundled corral run loads none of fs/promises, readline, perf_hooks or fs streams', () => {
  execFileSync(process.execPath, [join(copy, 'scripts', 'build-bundle.ts'), '--quiet']);
  const list = join(copy, 'loaded.txt');
  const hook = join(copy, 'loaded.cjs');
  writeFileSync(hook, `process.on('exit', () => require('node:fs').writeFileSync(${JSON.stringify(list)}, process.moduleLoadList.join('\\n')));\n`);
  const r = spawnSync(process.execPath, ['-r', hook, BIN, 'run', '-q', '--', 'true'], { env: { ...process.env, CORRAL_HOME: tempHome(), NO_COLOR: '1' }, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.status, 0, r.stderr);
  const loaded = readFileSync(list, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule sqlite'), 'the list is the run\'s own (it opened the ledger)');
  for (const unwanted of ['internal/fs/promises', 'internal/readline/interface', 'internal/repl/history', 'perf_hooks', 'internal/perf/performance', 'internal/fs/streams']) {
    assert.ok(!loaded.includes(`NativeModule ${unwanted}`), `corral run loaded ${unwanted}`);
  }
});
