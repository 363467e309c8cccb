import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { createTestUser, fakeGpuEnv, startAs, writePolicy } from './guard-kit.ts';

interface Timeline { samples: { seq: number; users: Record<string, number>; devices: Record<string, number> }[] }

test('guard run --ui serves the dashboard, and its timeline is sampled from the guard\'s own scans', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const tracker = new Tracker();
  const home = tempHome();
  try {
    const holder = await startAs(user, tracker);
    const gpu = fakeGpuEnv([[holder.pid, 2048]]);
    if (!gpu) return;
    const policy = writePolicy(home, `users: [${user.name}]\nmin_age: 0s\nnotify:\n  terminal: false\nrules:\n  - reason: stopped\n    notify: 0s\n`);
    const g = startCorral(['guard', 'run', '--policy', policy, '--interval', '200ms', '--ui', '127.0.0.1:0'], { home, env: gpu });
    tracker.pid(g.child.pid);
    const url = await waitFor(() => /^(http:\/\/127\.0\.0\.1:\d+\/)\n/m.exec(g.output())?.[1], 'the dashboard URL');
    // the dashboard takes no samples of its own when the guard feeds it: these come from the guard's passes
    const tl = await waitFor(async () => {
      const body = (await (await fetch(url + 'api/timeline')).json()) as Timeline;
      return body.samples.filter((s) => s.users[user.name] === 2048).length >= 2 ? body : undefined;
    }, 'two timeline samples with the holder\'s 2048 MiB');
    assert.ok(tl.samples.every((s, i) => i === 0 || s.seq > tl.samples[i - 1]!.seq));
    // the page's GPUs are those of the guard's last pass (the guard never calls NVML in its own process)
    await waitFor(async () => {
      const gpus = (await (await fetch(url + 'api/gpus')).json()) as { processes: { pid: number }[] };
      return gpus.processes.some((p) => p.pid === holder.pid);
    }, 'the GPU view to name the holder');
    g.child.kill('SIGTERM');
    const end = await g.done;
    assert.equal(end.code, 0, g.output());
  } finally {
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), []);
    user.remove();
  }
});

test('guard run --token without --ui is a usage error; nothing is scanned', async () => {
  const res = await runCorral(['guard', 'run', '--once', '--token', 'x'.repeat(32)], { home: tempHome() });
  assert.equal(res.code, 2);
  assert.match(res.stderr, /--token is for the dashboard/);
});
