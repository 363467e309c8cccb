import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { driverGpusToDevices, parseDriverInformation, readDriverGpus } from '../../src/gpu/driver-info.ts';
import { FIXTURES, readFixture } from './gpu-fixtures.ts';

const GPUS = join(FIXTURES, 'proc-driver-nvidia-gpus');

test('parseDriverInformation reads minor, bus, uuid and model from tab-separated lines', () => {
  assert.deepEqual(parseDriverInformation(readFixture('proc-driver-nvidia-gpus/0000:2a:00.0/information')), {
    minor: 1, pciBusId: '0000:2a:00.0', uuid: 'GPU-11111111-2222-3333-4444-555555555555', model: 'NVIDIA H100 80GB HBM3',
  });
});

test('parseDriverInformation: a GPU-????? uuid is no uuid; no Device Minor is no entry', () => {
  const info = parseDriverInformation(readFixture('proc-driver-nvidia-gpus/0000:9b:00.0/information'));
  assert.deepEqual(info, { minor: 3, pciBusId: '0000:9b:00.0', model: 'NVIDIA A100-SXM4-40GB' });
  assert.equal(parseDriverInformation('Model: \t X\nBus Location: \t 0000:01:00.0\n'), null);
  assert.deepEqual(parseDriverInformation('Device Minor: \t 2\n', '0000:03:00.0'), { minor: 2, pciBusId: '0000:03:00.0' });
});

test('readDriverGpus reads every bus directory; a missing directory is no GPUs', () => {
  const gpus = readDriverGpus(GPUS);
  assert.deepEqual(gpus.map((g) => g.minor).sort(), [0, 1, 3]);
  assert.deepEqual(readDriverGpus(join(FIXTURES, 'no-such-dir')), []);
});

test('driverGpusToDevices numbers GPUs in PCI bus order', () => {
  const devices = driverGpusToDevices(readDriverGpus(GPUS).reverse());
  assert.deepEqual(devices.map((d) => [d.index, d.pciBusId, d.minor, d.source]), [
    [0, '0000:18:00.0', 0, 'procfs'], [1, '0000:2a:00.0', 1, 'procfs'], [2, '0000:9b:00.0', 3, 'procfs'],
  ]);
});
