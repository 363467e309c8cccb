import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Stray } from '../../src/strays/types.ts';
import { runCorral } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { RENAMED, isRoot, makeStrays, type StrayKit } from '../strays/stray-kit.ts';

const t = new Tracker();
let kit: StrayKit;
before(async () => {
  kit = await makeStrays(t);
});
after(async () => {
  // strays only looks: every process the kit made is still there for the tracker to kill
  await t.cleanup();
  assert.deepEqual(t.alive(), []);
  kit?.dispose();
});

async function strays(...args: string[]): Promise<Map<number, Stray>> {
  const res = await runCorral(['strays', '--json', ...args], { env: kit.env });
  assert.equal(res.code, 0, res.stderr);
  const out = JSON.parse(res.stdout) as { strays: Stray[] };
  return new Map(out.strays.map((s) => [s.pid, s]));
}

const reasonsOf = (s: Stray | undefined) => s?.reasons.map((r) => r.reason);

test('each kind of stray is listed with its reason and attribution; the bystander is not', async () => {
  const found = await strays();
  const gpu = found.get(kit.gpuOrphan.pid)!;
  assert.deepEqual(reasonsOf(gpu), ['orphan', 'gpu-holder']);
  assert.equal(gpu.adoptedBy, 'init');
  assert.equal(gpu.rewritten?.argv0, RENAMED, 'the renamed command line is flagged');
  assert.ok(gpu.gpu.some((g) => g.devicePaths?.includes(`${kit.devDir}/nvidia0`)), 'the fd on the fake device node is the evidence');
  if (kit.fakeNvml) {
    assert.equal(gpu.gpuBytes, 5632 * 2 ** 20);
    assert.equal(gpu.severity, 'critical', 'GPU memory held makes it critical');
  }
  assert.deepEqual(reasonsOf(found.get(kit.stopped.pid)), ['stopped']);
  assert.equal(found.get(kit.stopped.pid)!.parent?.pid, process.pid);
  assert.deepEqual(reasonsOf(found.get(kit.zombieParent.pid)), ['orphan']);
  const zombie = found.get(kit.zombie.pid)!;
  assert.deepEqual(zombie.reasons.map((r) => [r.reason, r.data.parentPid]), [['zombie', kit.zombieParent.pid]]);
  for (const pid of kit.runPids) {
    const s = found.get(pid)!;
    const hit = s.reasons.find((r) => r.reason === 'run-ended')!;
    assert.deepEqual([hit.data.status, hit.data.supervisorAlive, hit.data.sentinelAlive], ['running', false, false], `${pid}`);
    assert.equal(s.attribution.runId, kit.runId);
    assert.equal(s.attribution.jobId, `${kit.runId}.main`);
    assert.equal(s.attribution.run?.live, false);
  }
  if (kit.otherUid) {
    const other = found.get(kit.otherUid.pid)!;
    assert.deepEqual([other.user, other.uid, reasonsOf(other)], ['nobody', 65534, ['orphan']]);
  }
  assert.ok(!found.has(kit.bystander.pid), 'a plain child of a live parent is no stray');
});

test('filters: --run, --reason, --user, --gpu', async () => {
  const byRun = await strays('--run', kit.runId);
  assert.deepEqual([...byRun.keys()].sort(), [...kit.runPids].sort());
  const stopped = await strays('--reason', 'stopped');
  assert.ok(stopped.has(kit.stopped.pid) && !stopped.has(kit.gpuOrphan.pid));
  if (isRoot) {
    const nobody = await strays('--user', 'nobody');
    assert.ok(nobody.has(kit.otherUid!.pid) && !nobody.has(kit.stopped.pid));
  }
  const gpu0 = await strays('--gpu', '0');
  assert.ok(gpu0.has(kit.gpuOrphan.pid) && !gpu0.has(kit.stopped.pid));
});

test('--sample finds the GPU holder that uses no CPU', async () => {
  const found = await strays('--sample', '300ms', '--reason', 'idle-gpu-holder');
  assert.deepEqual(reasonsOf(found.get(kit.gpuOrphan.pid)), ['orphan', 'gpu-holder', 'idle-gpu-holder']);
});

test('the table names each stray and its reasons; bad flags exit 2 with a hint', async () => {
  const res = await runCorral(['strays', '--run', kit.runId], { env: kit.env });
  assert.equal(res.code, 0);
  for (const pid of kit.runPids) assert.match(res.stdout, new RegExp(`^${pid} .*run-ended`, 'm'));
  assert.match(res.stdout, /still marked running, but its supervisor and its sentinel are both gone/);
  const typo = await runCorral(['strays', '--reason', 'orphn'], { env: kit.env });
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /unknown stray reason 'orphn'[\s\S]*did you mean orphan\?/);
  assert.equal((await runCorral(['strays', '--older-than', 'soon'], { env: kit.env })).code, 2);
});
