import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  SENTINEL_BYTE, chooseStructSize, looksPlausible, parseProcessInfos, wrotePast24,
} from '../../src/gpu/nvml-process-info.ts';
import { readHexFixture } from './gpu-fixtures.ts';

const EXPECTED = [
  { pid: 4242, usedBytes: 5632 * 2 ** 20, gpuInstanceId: null, computeInstanceId: null },
  { pid: 4243, usedBytes: null, gpuInstanceId: null, computeInstanceId: null },
  { pid: 31337, usedBytes: 1024 * 2 ** 20, gpuInstanceId: 1, computeInstanceId: 0 },
];

/** The buffer as corral hands it to the driver: pre-filled with the sentinel, room for 64-byte entries. */
function asFilled(written: Buffer, capacity: number): Buffer {
  const buf = Buffer.alloc(capacity * 64, SENTINEL_BYTE);
  written.copy(buf);
  return buf;
}

test('parses the 24-byte nvmlProcessInfo_t layout, ULLONG_MAX memory as null', () => {
  const buf = readHexFixture('nvml-processes-24.hex');
  assert.equal(buf.length, 72);
  assert.deepEqual(parseProcessInfos(buf, 3, 24), EXPECTED);
});

test('parses the 32-byte R535 layout', () => {
  const buf = readHexFixture('nvml-processes-32.hex');
  assert.equal(buf.length, 96);
  assert.deepEqual(parseProcessInfos(buf, 3, 32), EXPECTED.map((e) => ({ ...e, ccProtectedBytes: 0 })));
});

test('a 32-byte buffer read as 24-byte entries is implausible, and the other way round', () => {
  const b24 = readHexFixture('nvml-processes-24.hex');
  const b32 = readHexFixture('nvml-processes-32.hex');
  assert.equal(looksPlausible(b32, 3, 24), false); // entry 1 would be pid 0, read from entry 0's tail
  assert.equal(looksPlausible(b32, 3, 32), true);
  assert.equal(looksPlausible(b24, 3, 24), true);
  assert.equal(looksPlausible(b24, 3, 32), false); // too short
});

test('parseProcessInfos refuses a short buffer', () => {
  assert.throws(() => parseProcessInfos(Buffer.alloc(40), 2, 24), RangeError);
});

test('chooseStructSize measures how far the driver wrote', () => {
  const f24 = asFilled(readHexFixture('nvml-processes-24.hex'), 7);
  const f32 = asFilled(readHexFixture('nvml-processes-32.hex'), 7);
  assert.equal(wrotePast24(f24, 3), false);
  assert.equal(wrotePast24(f32, 3), true);
  // the driver version points the other way in both cases: the bytes win
  assert.deepEqual(chooseStructSize(f24, 3, { sentinelFilled: true, driverVersion: '535.54.03' }).size, 24);
  assert.deepEqual(chooseStructSize(f32, 3, { sentinelFilled: true, driverVersion: '550.54.15' }).size, 32);
});

test('chooseStructSize: one entry of a 32-byte driver is still seen as 32', () => {
  const one = asFilled(readHexFixture('nvml-processes-32.hex').subarray(0, 32), 5);
  assert.equal(chooseStructSize(one, 1, { sentinelFilled: true }).size, 32);
});

test('chooseStructSize overrides the sentinel when its reading is implausible', () => {
  // a 24-byte driver that also zeroed bytes past its last entry: the sentinel says 32, but read
  // as 32 bytes entry 1's pid would be the high half of a memory figure (0xffffffff)
  const buf = asFilled(readHexFixture('nvml-processes-24.hex'), 7);
  buf.fill(0, 72, 96);
  assert.equal(wrotePast24(buf, 3), true);
  const choice = chooseStructSize(buf, 3, { sentinelFilled: true });
  assert.equal(choice.size, 24);
  assert.match(choice.reason, /32-byte reading implausible/);
  assert.deepEqual(parseProcessInfos(buf, 3, choice.size), EXPECTED);
});

test('chooseStructSize without a sentinel: plausibility, then driver version', () => {
  const b32 = readHexFixture('nvml-processes-32.hex');
  assert.equal(chooseStructSize(b32, 3, { sentinelFilled: false }).size, 32);
  const b24 = Buffer.concat([readHexFixture('nvml-processes-24.hex'), Buffer.alloc(24)]);
  assert.equal(chooseStructSize(b24, 3, { sentinelFilled: false, driverVersion: '550.54.15' }).size, 24);
  assert.equal(chooseStructSize(b24, 0, { sentinelFilled: false, driverVersion: '535.104.05' }).size, 32);
});
