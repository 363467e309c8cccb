import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { preloadHook } from '../cli/run-kit.ts';

/*
 * A supervisor that runs for days must not grow: V8 doubles its young generation whenever survivors add
 * up, and each registry pass holds a whole /proc snapshot while it allocates (issue 15). A hook preloaded
 * into the real `corral run` waits until the job runs (the bound is set before any job starts), then
 * allocates and keeps as a busy pass does, and records the new space's size before and after.
 */
const HOOK = `
import { existsSync, writeFileSync } from 'node:fs';
import { getHeapSpaceStatistics } from 'node:v8';
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const keep = [];
let start = null;
let passes = 0;
const timer = setInterval(() => {
  if (start === null) {
    if (!existsSync(process.env.HEAP_READY)) return;
    start = newSpace();
  }
  for (let i = 0; i < 40; i++) {
    const a = [];
    for (let j = 0; j < 20000; j++) a.push({ j, s: 'x' + j });
    keep.push(a);
    if (keep.length > 3) keep.shift();
  }
  if (++passes < 4) return;
  clearInterval(timer);
  keep.length = 0;
  writeFileSync(process.env.HEAP_OUT, JSON.stringify({ start, end: newSpace() }));
}, 20);
timer.unref();
`;

test("corral run keeps its young generation at the size start-up gave it while the job runs, however much a pass allocates", async (t) => {
  const { dir, env } = preloadHook(t, HOOK);
  const ready = join(dir, 'ready');
  const out = join(dir, 'heap.json');
  // the job says it runs, then waits (at most 60 s) until the supervisor has allocated and measured
  const job = `: > "$1"; i=0; while [ ! -e "$2" ] && [ $i -lt 1200 ]; do sleep 0.05; i=$((i+1)); done`;
  const res = await runCorral(['run', '-q', '--', 'sh', '-c', job, 'sh', ready, out], {
    home: tempHome(), env: { ...env, HEAP_READY: ready, HEAP_OUT: out },
  });
  assert.equal(res.code, 0, res.stderr);
  const r = JSON.parse(readFileSync(out, 'utf8')) as { start: number; end: number };
  assert.equal(r.end, r.start, `the new space grew from ${r.start} to ${r.end} bytes`);
});
