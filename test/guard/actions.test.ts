import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { isAlive } from '../../src/proc/identity.ts';
import { recentGuardActions } from '../../src/guard/actions-view.ts';
import { createTestUser, fakeGpuEnv, startAs, startReceiver, writePolicy } from './guard-kit.ts';

interface Status {
  strays: { pid: number; firstSeen: string; notifyCount: number }[];
  actions: { pid: number; action: string; outcome: string; gpuBeforeMiB?: number }[];
  counters: Record<string, number>;
}

const status = async (home: string): Promise<Status> => JSON.parse((await runCorral(['guard', 'status', '--json'], { home })).stdout) as Status;

test('notify: a stopped stray of the covered user goes to the webhook and the command hook once, with the facts and the reap command', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const tracker = new Tracker();
  const hook = await startReceiver();
  const home = tempHome();
  try {
    const stray = await startAs(user, tracker, { stopped: true });
    const out = join(home, 'hook.json');
    const policy = writePolicy(home, `users: [${user.name}]\nmin_age: 0s\nrules:\n  - reason: stopped\n    notify: 0s\nnotify:\n  webhook: ${hook.url}\n  command: cat > ${out}\n  terminal: false\n  timeout: 30s\n`);
    const first = await runCorral(['guard', 'run', '--once', '--policy', policy], { home });
    assert.equal(first.code, 0, first.stderr);
    // (the deadline is generous: the receiver lives in this test's process, which a loaded suite may starve)
    assert.equal(hook.bodies.length, 1, `one webhook call; the guard said: ${first.stderr}`);
    const body = hook.bodies[0]!;
    assert.equal(body.pid, stray.pid);
    assert.equal(body.user, user.name);
    assert.deepEqual(body.reasons, ['stopped']);
    assert.match(String(body.text), new RegExp(`stray process ${stray.pid} of ${user.name}`));
    assert.match(String(body.text), new RegExp(`remove it: corral reap ${stray.pid} --yes`), 'the owner is told the command they run themselves');
    const fromHook = JSON.parse(readFileSync(out, 'utf8')) as { pid: number; text: string };
    assert.equal(fromHook.pid, stray.pid, 'the command hook got the notice as JSON on stdin');
    // a second scan: the same identity is not notified again (de-duplicated until notify.repeat)
    const second = await runCorral(['guard', 'run', '--once', '--policy', policy], { home });
    assert.equal(second.code, 0, second.stderr);
    assert.equal(hook.bodies.length, 1, 'no second notification for the same stray');
    const st = await status(home);
    const notes = st.actions.filter((a) => a.pid === stray.pid && a.action === 'notify');
    assert.equal(notes.length, 1);
    assert.match(notes[0]!.outcome, /webhook 200; command ok/);
    assert.equal(st.counters.notifications, 1);
    assert.ok(isAlive(stray), 'notify never signals');
    // the dashboard's view reads the same record
    assert.equal(recentGuardActions(10, { CORRAL_HOME: home }).find((a) => a.pid === stray.pid)?.action, 'notify');
  } finally {
    await hook.close();
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), [], 'nothing the test started is left');
    user.remove();
  }
});

test('reap: a GPU holder of the covered user is reaped by policy through the teardown; an excluded user and one younger than min_age are skipped', async (t) => {
  const user = createTestUser(t);
  const other = user && createTestUser(t);
  if (!user || !other) return;
  const tracker = new Tracker();
  const home = tempHome();
  try {
    const holder = await startAs(user, tracker);
    const excluded = await startAs(other, tracker);
    const gpu = fakeGpuEnv([[holder.pid, 4096], [excluded.pid, 2048]]);
    if (!gpu) return;
    const policy = writePolicy(home, `users: [${user.name}, ${other.name}]\nexclude_users: [${other.name}]\nmin_age: 0s\nrules:\n  - reason: gpu-holder\n    reap: 0s\nnotify:\n  terminal: false\n`);
    // the GPU probe process gets a minute: a loaded suite once kept it past the 10 s default, and a pass
    // without NVML's view has no GPU holder to reap (what is tested here is the policy, not the deadline)
    const res = await runCorral(['guard', 'run', '--once', '--policy', policy, '--grace', '1s'], { home, env: { ...gpu, CORRAL_GUARD_GPU_DEADLINE_MS: '60000' } });
    assert.equal(res.code, 0, res.stderr);
    await waitFor(() => !isAlive(holder), 'the GPU holder to be reaped').catch((e: Error) => {
      throw new Error(`${e.message}; the guard said: ${res.stderr}`);
    });
    assert.ok(isAlive(excluded), 'the excluded user\'s stray is never touched');
    const st = await status(home);
    const reap = st.actions.find((a) => a.pid === holder.pid && a.action === 'reap');
    assert.ok(reap, JSON.stringify(st.actions));
    assert.match(reap.outcome, /^reaped: .*4096 MiB GPU memory freed/);
    assert.equal(typeof reap.gpuBeforeMiB, 'number', 'GPU memory before is recorded');
    assert.match(st.actions.find((a) => a.pid === excluded.pid)?.outcome ?? '', /exclude_users/);
    assert.equal(st.counters.reaps, 1);

    // min_age: a stray younger than it is skipped, and the skip is recorded once
    const young = await startAs(user, tracker);
    const gpu2 = fakeGpuEnv([[young.pid, 1024]])!;
    const strict = writePolicy(home, `users: [${user.name}]\nmin_age: 1h\nrules:\n  - reason: gpu-holder\n    reap: 0s\nnotify:\n  terminal: false\n`, 'strict.yaml');
    for (let i = 0; i < 2; i++) assert.equal((await runCorral(['guard', 'run', '--once', '--policy', strict], { home, env: { ...gpu2, CORRAL_GUARD_GPU_DEADLINE_MS: '60000' } })).code, 0);
    assert.ok(isAlive(young), 'younger than min_age: never reaped');
    const skips = (await status(home)).actions.filter((a) => a.pid === young.pid);
    assert.equal(skips.length, 1, `the skip is recorded once, not every scan: ${JSON.stringify(skips)}`);
    assert.match(skips[0]!.outcome, /younger than min_age 1h/);
  } finally {
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), [], 'nothing the test started is left');
    user.remove();
    other.remove();
  }
});
