import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROOT, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { createTestUser, writePolicy } from './guard-kit.ts';

// A guard that runs for months must not grow: V8 doubles its young generation whenever survivors add up,
// and each pass holds a whole snapshot while it allocates (100 -> 239 MiB over 120 scans, issue 15).
// The child runs the real loop, and each pass (onPass) allocates as a busy pass does while keeping part.
const CHILD = `
import { getHeapSpaceStatistics } from 'node:v8';
import { runGuard, YOUNG_GENERATION_LIMIT } from ${JSON.stringify(join(ROOT, 'src', 'guard', 'loop.ts'))};
const newSpace = () => getHeapSpaceStatistics().find((s) => s.space_name === 'new_space').space_size;
const start = newSpace();
const keep = [];
let passes = 0;
await runGuard({ policyFlag: process.env.POLICY, intervalMs: 1, once: false, graceMs: 1000, log: () => {}, onPass: () => {
  for (let i = 0; i < 8; i++) {
    const a = [];
    for (let j = 0; j < 20000; j++) a.push({ j, s: 'x' + j });
    keep.push(a);
    if (keep.length > 3) keep.shift();
  }
  if (++passes === 12) process.kill(process.pid, 'SIGTERM');
} });
console.log(JSON.stringify({ start, end: newSpace(), passes, limit: YOUNG_GENERATION_LIMIT }));
`;

test('guard run stops its young generation from growing past its limit however much its passes allocate', async (t) => {
  const user = createTestUser(t); // the guard covers only this user: nothing else can be notified or reaped
  if (!user) return;
  const tracker = new Tracker();
  const home = tempHome();
  try {
    const policy = writePolicy(home, `users: [${user.name}]\nrules:\n  - reason: any\n    notify: 0s\nnotify:\n  terminal: false\n`);
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], { env: { ...process.env, CORRAL_HOME: home, POLICY: policy, NO_COLOR: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    tracker.pid(child.pid);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d));
    child.stderr!.on('data', (d: Buffer) => (out += d));
    const deadline = setTimeout(() => child.kill('SIGKILL'), 120_000);
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    clearTimeout(deadline);
    assert.equal(code, 0, out);
    const r = JSON.parse(out.trim().split('\n').at(-1)!) as { start: number; end: number; passes: number; limit: number };
    assert.equal(r.passes, 12);
    // it stops once past the limit: at most one more doubling, within the pass that crossed it
    assert.ok(r.end <= 2 * r.limit, `the new space grew from ${r.start} to ${r.end} bytes (limit ${r.limit})`);
  } finally {
    assert.deepEqual(await tracker.cleanup(), [], 'nothing the test started may outlive it');
    user.remove();
  }
});
