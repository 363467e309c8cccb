import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { cgroupPids, createJobCgroup, findCgroup2Mount, isPopulated, killCgroup, removeCgroup, setUpRunCgroup } from '../../src/os/cgroup.ts';
import { newRunId } from '../../src/ledger/ids.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { skipOrFail } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

const HYBRID = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`;
const PURE = `28 22 0:26 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate`;
const V1_ONLY = `32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu`;
const BIND = `50 22 0:26 /docker/abc /sys/fs/cgroup ro,relatime - cgroup2 cgroup2 rw`;

test('the cgroup2 mount is found on pure, hybrid and v1-only systems', () => {
  assert.equal(findCgroup2Mount(PURE), '/sys/fs/cgroup');
  assert.equal(findCgroup2Mount(HYBRID), '/sys/fs/cgroup/unified');
  assert.equal(findCgroup2Mount(V1_ONLY), null);
  assert.equal(findCgroup2Mount(BIND), null, 'a mount of a sub-tree is not the hierarchy root');
});

test('CORRAL_CGROUP=off forces the fallback and says why', () => {
  const c = setUpRunCgroup('x', { CORRAL_CGROUP: 'off' });
  assert.deepEqual(c, { kind: 'none', reason: 'CORRAL_CGROUP=off' });
});

test('a real job cgroup holds a process, is killed at once with cgroup.kill, and is removed', async (ctx) => {
  const c = setUpRunCgroup(newRunId(), {});
  if (c.kind !== 'cgroup') return skipOrFail(ctx, `no writable cgroup2 here: ${c.reason}`);
  const dir = createJobCgroup(c.runDir, 'main');
  const child = spawn('/bin/sh', ['-c', `echo $$ > ${join(dir, 'cgroup.procs')} && exec sleep 60`], { stdio: 'ignore' });
  t.pid(child.pid);
  await waitFor(() => cgroupPids(c.runDir).includes(child.pid!), 'the child in the cgroup');
  assert.ok(isPopulated(dir));
  assert.ok(readFileSync(`/proc/${child.pid}/cgroup`, 'utf8').includes(`corral-`));
  if (existsSync(join(dir, 'cgroup.kill'))) {
    assert.ok(killCgroup(dir));
    await waitFor(() => !isPopulated(dir), 'the cgroup to empty');
  } else {
    writeFileSync('/dev/null', '');
    child.kill('SIGKILL');
  }
  await waitFor(() => removeCgroup(c.runDir), 'the cgroup to be removable');
  assert.equal(existsSync(c.runDir), false);
});
