import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { runCorral, startCorral, tempHome, type CorralProcess } from '../helpers/corral.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { readStat } from '../../src/proc/stat.ts';
import { createTestUser, fakeGpuEnv, startAs, startReceiver, writePolicy } from './guard-kit.ts';

interface Status {
  strays: { pid: number; firstSeen: string; notifyCount: number }[];
  counters: Record<string, number>;
}
const status = async (home: string): Promise<Status> => JSON.parse((await runCorral(['guard', 'status', '--json'], { home })).stdout) as Status;

async function stopGuard(g: CorralProcess): Promise<void> {
  if (g.child.exitCode === null && g.child.signalCode === null) g.child.kill('SIGKILL');
  await g.done;
}

test('guard run: metrics over HTTP, SIGHUP reload (good and bad), SIGKILL and restart with state intact', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const tracker = new Tracker();
  const hook = await startReceiver();
  const home = tempHome();
  const guards: CorralProcess[] = [];
  try {
    const stopped = await startAs(user, tracker, { stopped: true });
    const holder = await startAs(user, tracker);
    const gpu = fakeGpuEnv([[holder.pid, 3072]]);
    if (!gpu) return;
    const base = `users: [${user.name}]\nmin_age: 0s\nnotify:\n  webhook: ${hook.url}\n  terminal: false\n`;
    const policy = writePolicy(home, `${base}rules:\n  - reason: stopped\n    notify: 0s\n`);
    const start = () => {
      const g = startCorral(['guard', 'run', '--policy', policy, '--interval', '200ms', '--metrics', '127.0.0.1:0'], { home, env: gpu });
      guards.push(g);
      tracker.pid(g.child.pid);
      return g;
    };
    const g1 = start();
    const port = Number((await waitFor(() => /metrics on http:\/\/127\.0\.0\.1:(\d+)\/metrics/.exec(g1.output()), 'the metrics address'))[1]);
    await waitFor(() => hook.bodies.some((b) => b.pid === stopped.pid), 'the stopped stray notified');
    const scrape = async () => (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    const text = await waitFor(async () => {
      const m = await scrape();
      return m.includes('corral_guard_stray_gpu_memory_bytes{gpu="0"}') ? m : null;
    }, 'metrics with the GPU holder');
    assert.match(text, new RegExp(`corral_guard_strays\\{reason="stopped",severity="warning",user="${user.name}"\\} 1`));
    assert.match(text, new RegExp(`corral_guard_strays\\{reason="gpu-holder",severity="critical",user="${user.name}"\\} 1`));
    assert.match(text, new RegExp(`corral_guard_stray_gpu_memory_bytes\\{gpu="0"\\} ${3072 * 1024 * 1024}`));
    assert.match(text, new RegExp(`corral_guard_gpu_memory_bytes\\{user="${user.name}"\\} ${3072 * 1024 * 1024}`));
    assert.match(text, /corral_guard_notifications_total 1\n/);
    assert.match(text, /corral_guard_scan_duration_seconds \d/);
    assert.match(text, /# TYPE corral_guard_reaps_total counter/);

    // a bad policy on SIGHUP: the old one stays (the holder, not in its rules, is still alive)
    writeFileSync(policy, `${base}rules:\n  - reason: gpu-holder\n    reap: soon\n`);
    g1.child.kill('SIGHUP');
    await waitFor(() => /policy reload failed, keeping the previous policy: .*rules\[0\]\.reap: invalid reap 'soon'/.test(g1.output()), 'the failed reload reported');
    assert.ok(isAlive(holder), 'the old policy (notify only) still holds');
    // and it is still in force: a new stopped stray is notified under it
    const late = await startAs(user, tracker, { stopped: true });
    await waitFor(() => hook.bodies.some((b) => b.pid === late.pid), 'a new stray notified under the kept policy');

    // SIGKILL the guard; its successor keeps first-seen and does not notify the same stray again
    const before = (await status(home)).strays.find((s) => s.pid === stopped.pid)!;
    assert.equal(before.notifyCount, 1);
    await stopGuard(g1);
    writeFileSync(policy, `${base}rules:\n  - reason: stopped\n    notify: 0s\n`);
    const g2 = start();
    const scans = (await status(home)).counters.scans ?? 0;
    await waitFor(async () => ((await status(home)).counters.scans ?? 0) >= scans + 2, 'the restarted guard to scan twice').catch((e: Error) => {
      throw new Error(`${e.message}; guard output: ${g2.output()}`);
    });
    const after = (await status(home)).strays.find((s) => s.pid === stopped.pid)!;
    assert.equal(after.firstSeen, before.firstSeen, 'first seen survives SIGKILL and restart');
    assert.equal(after.notifyCount, 1);
    assert.equal(hook.bodies.filter((b) => b.pid === stopped.pid).length, 1, 'not notified again after the restart');

    // a good policy on SIGHUP takes effect: the GPU holder is reaped
    writeFileSync(policy, `${base}rules:\n  - reason: gpu-holder\n    reap: 0s\n`);
    g2.child.kill('SIGHUP');
    await waitFor(() => /policy reloaded/.test(g2.output()), 'the reload reported');
    await waitFor(() => !isAlive(holder), 'the holder reaped under the new policy');
    assert.ok(readStat(stopped.pid)?.state === 'T', 'the stopped stray (no reap rule) is left alone');
    g2.child.kill('SIGTERM');
    const end = await g2.done;
    assert.equal(end.code, 0, 'SIGTERM ends the guard cleanly');
  } finally {
    for (const g of guards) await stopGuard(g);
    await hook.close();
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), [], 'nothing the test started is left');
    user.remove();
  }
});
