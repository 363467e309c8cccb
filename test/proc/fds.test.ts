import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { listFdTargets, listFds, readDeviceRdev, splitDevT } from '../../src/proc/fds.ts';
import { spawnHolder, stopChild } from '../gpu/gpu-fixtures.ts';

test('listFdTargets sees a file a child holds open', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-fds-'));
  const file = join(dir, 'held');
  writeFileSync(file, '');
  const child = spawnHolder([file]);
  try {
    assert.ok(listFdTargets(child.pid!).includes(file));
    assert.ok(listFds(child.pid!).some((l) => l.fd === 3 && l.target === file));
  } finally {
    await stopChild(child);
    rmSync(dir, { recursive: true });
  }
});

test('listFdTargets gives [] for a pid that does not exist', () => {
  assert.deepEqual(listFdTargets(0x3fffff + 1), []);
});

test('splitDevT follows glibc major()/minor(), including minors above 255', () => {
  assert.deepEqual(splitDevT(0x103), { major: 1, minor: 3 }); // /dev/null
  assert.deepEqual(splitDevT(0xc300), { major: 195, minor: 0 }); // /dev/nvidia0
  assert.deepEqual(splitDevT(0xc3ff), { major: 195, minor: 255 }); // /dev/nvidiactl
  // glibc's makedev(), to check the split on numbers that use the high bits
  const makedev = (ma: bigint, mi: bigint) =>
    ((ma & 0xfffn) << 8n) | ((ma & 0xfffff000n) << 32n) | (mi & 0xffn) | ((mi & 0xffffff00n) << 12n);
  for (const [ma, mi] of [[195n, 3n], [511n, 70000n], [0x12345n, 0xabcdefn]] as const) {
    assert.deepEqual(splitDevT(makedev(ma, mi)), { major: Number(ma), minor: Number(mi) });
  }
});

test('readDeviceRdev reads character devices only', () => {
  assert.deepEqual(readDeviceRdev('/dev/null'), { major: 1, minor: 3 });
  assert.equal(readDeviceRdev('/proc/self/stat'), null);
  assert.equal(readDeviceRdev('/no/such/path'), null);
});
