import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { probeGpus } from '../../src/gpu/probe.ts';
import { FIXTURES, buildFakeNvml, spawnHolder, stopChild } from './gpu-fixtures.ts';
import { skipOrFail } from '../helpers/skip.ts';

const tmp = mkdtempSync(join(tmpdir(), 'corral-probe-'));
const dev = join(tmp, 'dev');
const noDriver = join(tmp, 'no-driver');
after(() => {
  delete process.env.FAKE_NVML_COMPUTE0;
  rmSync(tmp, { recursive: true, force: true });
});

test('probeGpus on a machine without a GPU: no devices, no throw, each probe says why', async (t) => {
  if (existsSync('/dev/nvidiactl') || existsSync('/dev/kfd')) return t.skip('this machine has a GPU driver');
  const view = await probeGpus();
  assert.deepEqual(view.devices, []);
  assert.deepEqual(view.processes, []);
  assert.deepEqual(view.probes.map((p) => [p.name, p.ok]), [['nvml', false], ['nvidia-smi', false], ['procfs', true]]);
  assert.match(view.probes[0]!.error!, /no NVIDIA device nodes in \/dev/, 'koffi and NVML are not even loaded without a driver');
});

test('NVML answering: nvidia-smi is not run, fd holders are merged in', async (t) => {
  const lib = buildFakeNvml(tmp, 24);
  if (!lib) return skipOrFail(t, 'no C compiler to build the fake NVML');
  mkdirSync(dev, { recursive: true });
  for (const n of ['nvidia0', 'nvidia1', 'nvidiactl']) writeFileSync(join(dev, n), '');
  // the fake NVML has index 0 = minor 1, index 1 = minor 0
  const trainer = spawnHolder([join(dev, 'nvidiactl'), join(dev, 'nvidia1')]);
  const hidden = spawnHolder([join(dev, 'nvidia0')]);
  try {
    process.env.FAKE_NVML_COMPUTE0 = `${trainer.pid}:5632`;
    const view = await probeGpus({
      nvmlLibrary: lib, nvidiaSmiPath: join(tmp, 'must-not-run'), driverGpusDir: noDriver,
      holders: { devDir: dev, pids: [trainer.pid!, hidden.pid!] },
    });
    assert.deepEqual(view.probes.map((p) => [p.name, p.ok]), [['nvml', true], ['procfs', true]]);
    assert.deepEqual(view.processes.map((p) => [p.pid, p.device, p.usedBytes, p.kind, p.sources]), [
      [trainer.pid, 0, 5632 * 2 ** 20, 'compute', ['nvml', 'procfs']],
      [hidden.pid, 1, null, 'device-fd', ['procfs']],
    ]);
  } finally {
    await stopChild(trainer);
    await stopChild(hidden);
  }
});

test('NVML missing: nvidia-smi answers, procfs still runs', async () => {
  const smi = join(tmp, 'nvidia-smi');
  writeFileSync(smi, [
    '#!/bin/sh',
    `case "$1" in --query-gpu=*) cat '${FIXTURES}/nvidia-smi-query-gpu.csv';; *) cat '${FIXTURES}/nvidia-smi-compute-apps.csv';; esac`,
  ].join('\n'));
  chmodSync(smi, 0o755);
  const view = await probeGpus({
    nvmlLibrary: join(tmp, 'libnvidia-ml-missing.so.1'), nvidiaSmiPath: smi,
    driverGpusDir: join(FIXTURES, 'proc-driver-nvidia-gpus'), holders: { devDir: dev, pids: [] },
  });
  assert.deepEqual(view.probes.map((p) => [p.name, p.ok]), [['nvml', false], ['nvidia-smi', true], ['procfs', true]]);
  assert.deepEqual(view.devices.map((d) => [d.index, d.minor, d.source]), [[0, 0, 'nvidia-smi'], [1, 1, 'nvidia-smi']]);
  assert.equal(view.processes.length, 4);
});

test('probes can be turned off one by one', async () => {
  const view = await probeGpus({ use: { nvml: false, nvidiaSmi: false }, driverGpusDir: noDriver, holders: { pids: [] } });
  assert.deepEqual(view, { devices: [], processes: [], probes: [{ name: 'procfs', ok: true, detail: '0 driver GPUs, 0 fd holders' }] });
});
