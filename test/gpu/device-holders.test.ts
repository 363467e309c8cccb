import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { classifyDevicePath, holdersToProcesses, scanDeviceHolders } from '../../src/gpu/device-holders.ts';
import { spawnHolder, stopChild } from './gpu-fixtures.ts';

// A fake /dev: plain files with the device nodes' names. Real children hold them open.
const dev = mkdtempSync(join(tmpdir(), 'corral-dev-'));
for (const name of ['nvidia0', 'nvidia1', 'nvidiactl', 'nvidia-uvm', 'kfd']) writeFileSync(join(dev, name), '');
mkdirSync(join(dev, 'dri'));
writeFileSync(join(dev, 'dri', 'renderD128'), '');
after(() => rmSync(dev, { recursive: true, force: true }));

test('classifyDevicePath names GPU nodes; the fd\'s real minor wins over the name', () => {
  assert.deepEqual(classifyDevicePath('/dev/nvidia3'), { kind: 'nvidia', path: '/dev/nvidia3', minor: 3 });
  assert.deepEqual(classifyDevicePath('/dev/nvidia0', '/dev', { major: 195, minor: 3 })?.minor, 3);
  assert.deepEqual(classifyDevicePath('/dev/nvidia0', '/dev', { major: 1, minor: 3 })?.minor, 0);
  assert.equal(classifyDevicePath('/dev/nvidiactl')?.kind, 'nvidia-shared');
  assert.equal(classifyDevicePath('/dev/nvidia-uvm')?.kind, 'nvidia-shared');
  assert.equal(classifyDevicePath('/dev/kfd')?.kind, 'amd-kfd');
  assert.deepEqual(classifyDevicePath('/dev/dri/renderD129'), { kind: 'amd-render', path: '/dev/dri/renderD129', minor: 129 });
  for (const other of ['/dev/null', '/dev/nvidia-caps/nvidia-cap1', '/dev/dri/card0', '/tmp/nvidia0', 'pipe:[123]']) {
    assert.equal(classifyDevicePath(other), null, other);
  }
});

test('a whole-/proc scan finds a child holding a fake /dev/nvidia1', async () => {
  const child = spawnHolder([join(dev, 'nvidiactl'), join(dev, 'nvidia-uvm'), join(dev, 'nvidia1')]);
  try {
    const holders = scanDeviceHolders({ devDir: dev });
    const mine = holders.filter((h) => h.pid === child.pid);
    assert.equal(mine.length, 1);
    assert.equal(mine[0]!.comm, 'sleep');
    assert.deepEqual(holdersToProcesses(mine), [{
      pid: child.pid!, device: -1, usedBytes: null, kind: 'device-fd', sources: ['procfs'], deviceMinor: 1,
      devicePaths: [join(dev, 'nvidia-uvm'), join(dev, 'nvidia1'), join(dev, 'nvidiactl')],
    }]);
  } finally {
    await stopChild(child);
  }
});

test('nvidiactl / nvidia-uvm alone make no holder (every NVML user opens them)', async () => {
  const child = spawnHolder([join(dev, 'nvidiactl'), join(dev, 'nvidia-uvm')]);
  try {
    assert.deepEqual(scanDeviceHolders({ devDir: dev, pids: [child.pid!] }), []);
  } finally {
    await stopChild(child);
  }
});

test('AMD nodes give one entry with an unknown device; two NVIDIA GPUs give two', async () => {
  const amd = spawnHolder([join(dev, 'kfd'), join(dev, 'dri', 'renderD128')]);
  const two = spawnHolder([join(dev, 'nvidia0'), join(dev, 'nvidia1')]);
  try {
    const procs = holdersToProcesses(scanDeviceHolders({ devDir: dev, pids: [amd.pid!, two.pid!] }));
    assert.deepEqual(procs.map((p) => [p.pid, p.device, p.deviceMinor]), [
      [amd.pid, -1, undefined], [two.pid, -1, 0], [two.pid, -1, 1],
    ]);
    assert.deepEqual(procs[0]!.devicePaths, [join(dev, 'dri', 'renderD128'), join(dev, 'kfd')]);
  } finally {
    await stopChild(amd);
    await stopChild(two);
  }
});

test('display servers, nvidia-persistenced and excluded pids are left out', async () => {
  const bin = mkdtempSync(join(tmpdir(), 'corral-bin-'));
  copyFileSync('/usr/bin/sleep', join(bin, 'Xorg'));
  copyFileSync('/usr/bin/sleep', join(bin, 'nvidia-persistenced'));
  const xorg = spawnHolder([join(dev, 'nvidia0')], join(bin, 'Xorg'));
  const persist = spawnHolder([join(dev, 'nvidia0')], join(bin, 'nvidia-persistenced'));
  const plain = spawnHolder([join(dev, 'nvidia0')]);
  try {
    const pids = [xorg.pid!, persist.pid!, plain.pid!];
    assert.deepEqual(scanDeviceHolders({ devDir: dev, pids }).map((h) => h.pid), [plain.pid]);
    assert.deepEqual(scanDeviceHolders({ devDir: dev, pids, excludePids: [plain.pid!] }), []);
    assert.equal(scanDeviceHolders({ devDir: dev, pids, ignoreNames: [] }).length, 3);
  } finally {
    await stopChild(xorg);
    await stopChild(persist);
    await stopChild(plain);
    rmSync(bin, { recursive: true, force: true });
  }
});
