import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Tracker, findByToken, waitFor } from '../helpers/procs.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { requireInCI } from '../helpers/skip.ts';
import { createTestUser, startAs, startReceiver, writePolicy } from './guard-kit.ts';

const HERE = dirname(fileURLToPath(import.meta.url));

test('a GPU probe that hangs (NVML never returns) is killed at the deadline and the guard scans and notifies with /proc alone', async (t) => {
  const user = createTestUser(t);
  if (!user) return;
  const home = tempHome();
  const lib = join(home, 'libhang-nvml.so');
  const cc = spawnSync('cc', ['-shared', '-fPIC', '-DENTRY_SIZE=32', '-o', lib, join(HERE, 'fixtures', 'hang-nvml.c')]);
  if (!requireInCI(cc.status === 0 ? lib : null, 'the hanging NVML stand-in (cc)')) return t.skip('no C compiler');
  const tracker = new Tracker();
  const hook = await startReceiver();
  const token = tracker.token('guard-hang');
  try {
    const stray = await startAs(user, tracker, { stopped: true });
    const policy = writePolicy(home, `users: [${user.name}]\nmin_age: 0s\nrules:\n  - reason: stopped\n    notify: 0s\nnotify:\n  webhook: ${hook.url}\n  terminal: false\n`);
    const env = { CORRAL_NVML_LIBRARY: lib, CORRAL_GUARD_GPU_DEADLINE_MS: '500', GUARD_HANG_TOKEN: token };
    const res = await runCorral(['guard', 'run', '--once', '--policy', policy], { home, env });
    assert.equal(res.code, 0, res.stderr);
    assert.ok(hook.bodies.some((b) => b.pid === stray.pid), 'the scan went on and notified');
    // the hung probe process (it carries the token in its environment) was killed, not left behind
    await waitFor(() => findByToken(token).length === 0, 'the hung probe process to be gone');
  } finally {
    await hook.close();
    await tracker.cleanup();
    assert.deepEqual(tracker.alive(), [], 'nothing the test started is left');
    user.remove();
  }
});
