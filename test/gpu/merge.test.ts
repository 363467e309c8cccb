import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { driverGpusToDevices, readDriverGpus } from '../../src/gpu/driver-info.ts';
import { mergeGpuViews } from '../../src/gpu/merge.ts';
import { parseQueryComputeApps, parseQueryGpu } from '../../src/gpu/nvidia-smi.ts';
import type { GpuProcess, GpuView } from '../../src/gpu/types.ts';
import { FIXTURES, readFixture } from './gpu-fixtures.ts';

const GIB = 2 ** 30;
const driverDevices = driverGpusToDevices(readDriverGpus(join(FIXTURES, 'proc-driver-nvidia-gpus')));

function holder(pid: number, minor: number | undefined, paths: string[]): GpuProcess {
  const p: GpuProcess = { pid, device: -1, usedBytes: null, kind: 'device-fd', sources: ['procfs'], devicePaths: paths };
  if (minor !== undefined) p.deviceMinor = minor;
  return p;
}

// NVML numbers the bus-0x18 GPU (minor 0) as index 1 here, to show the minor, not the name, decides
const nvml: GpuView = {
  devices: [
    { index: 0, uuid: 'GPU-11111111-2222-3333-4444-555555555555', minor: 1, memTotalBytes: 80 * GIB, source: 'nvml' },
    { index: 1, uuid: 'GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', minor: 0, memTotalBytes: 80 * GIB, source: 'nvml' },
  ],
  processes: [{ pid: 4242, device: 0, usedBytes: 5 * GIB, kind: 'compute', sources: ['nvml'] }],
  probes: [{ name: 'nvml', ok: true }],
};
const procfs: GpuView = {
  devices: driverDevices,
  processes: [
    holder(4242, 1, ['/dev/nvidia1', '/dev/nvidiactl']),
    holder(4242, 0, ['/dev/nvidia0']), // CUDA opens every visible node; NVML says it only uses index 0
    holder(777, 0, ['/dev/nvidia0']),
    holder(888, undefined, ['/dev/kfd']),
  ],
  probes: [{ name: 'procfs', ok: true }],
};

test('a pid seen by NVML and as an fd holder is one entry with both sources', () => {
  const view = mergeGpuViews([nvml, procfs]);
  assert.deepEqual(view.processes.find((p) => p.pid === 4242), {
    pid: 4242, device: 0, usedBytes: 5 * GIB, kind: 'compute', sources: ['nvml', 'procfs'], deviceMinor: 1,
    devicePaths: ['/dev/nvidia0', '/dev/nvidia1', '/dev/nvidiactl'],
  });
  assert.equal(view.processes.filter((p) => p.pid === 4242).length, 1);
});

test('holders NVML did not name stay, usedBytes null, minor mapped to the NVML index', () => {
  const view = mergeGpuViews([nvml, procfs]);
  assert.deepEqual(view.processes.map((p) => [p.pid, p.device, p.usedBytes, p.kind]), [
    [888, -1, null, 'device-fd'], [4242, 0, 5 * GIB, 'compute'], [777, 1, null, 'device-fd'],
  ]);
  assert.deepEqual(view.probes.map((p) => p.name), ['nvml', 'procfs']);
});

test('devices come from the first probe that names any; later probes fill gaps by uuid or bus id', () => {
  const view = mergeGpuViews([nvml, procfs]);
  assert.equal(view.devices.length, 2); // the driver's third GPU is not added under another numbering
  assert.deepEqual(view.devices[1], {
    index: 1, uuid: 'GPU-aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', minor: 0, memTotalBytes: 80 * GIB, source: 'nvml',
    name: 'NVIDIA H100 80GB HBM3', pciBusId: '0000:18:00.0',
  });
});

test('nvidia-smi devices get minors from /proc/driver, matched by bus id', () => {
  const devices = parseQueryGpu(readFixture('nvidia-smi-query-gpu.csv'));
  const smi: GpuView = {
    devices, processes: parseQueryComputeApps(readFixture('nvidia-smi-compute-apps.csv'), devices),
    probes: [{ name: 'nvidia-smi', ok: true }],
  };
  const view = mergeGpuViews([{ devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error: 'x' }] }, smi, procfs]);
  assert.deepEqual(view.devices.map((d) => [d.index, d.minor, d.source]), [[0, 0, 'nvidia-smi'], [1, 1, 'nvidia-smi']]);
  // 4242 is on index 0 per nvidia-smi; its holder entries fold into that one entry
  assert.deepEqual(view.processes.filter((p) => p.pid === 4242).map((p) => [p.device, p.sources]), [[0, ['nvidia-smi', 'procfs']]]);
  assert.deepEqual(view.processes.find((p) => p.pid === 777)!.device, 0);
});

test('with only the kernel driver\'s list, holders map through PCI order; with nothing, they stay -1', () => {
  const only = mergeGpuViews([procfs]);
  assert.equal(only.devices.length, 3);
  assert.deepEqual(only.processes.filter((p) => p.pid === 4242).map((p) => p.device), [0, 1]);
  const bare = mergeGpuViews([{ ...procfs, devices: [] }]);
  assert.ok(bare.processes.every((p) => p.device === -1));
  assert.equal(bare.processes.length, 4); // two GPUs' holders of 4242 stay apart by minor
});

test('the same pid and device from two memory probes is one entry; the first memory figure stays', () => {
  const a: GpuView = { devices: nvml.devices, processes: [{ pid: 9, device: 0, usedBytes: null, kind: 'graphics', sources: ['nvml'] }], probes: [] };
  const b: GpuView = { devices: [], processes: [{ pid: 9, device: 0, usedBytes: GIB, kind: 'compute', sources: ['nvidia-smi'] }], probes: [] };
  assert.deepEqual(mergeGpuViews([a, b]).processes, [{ pid: 9, device: 0, usedBytes: GIB, kind: 'compute', sources: ['nvml', 'nvidia-smi'] }]);
  assert.deepEqual(mergeGpuViews([]), { devices: [], processes: [], probes: [] });
});
