import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseQueryComputeApps, parseQueryGpu, probeNvidiaSmi } from '../../src/gpu/nvidia-smi.ts';
import { FIXTURES, readFixture } from './gpu-fixtures.ts';

const MIB = 2 ** 20;
const dir = mkdtempSync(join(tmpdir(), 'corral-smi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stand-in nvidia-smi: a shell script answering each query with a fixture. */
function fakeSmi(name: string, body: string): string {
  const path = join(dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

test('parseQueryGpu reads the CSV, MiB to bytes, bus ids normalised', () => {
  const devices = parseQueryGpu(readFixture('nvidia-smi-query-gpu.csv'));
  assert.deepEqual(devices[1], {
    index: 1, source: 'nvidia-smi', uuid: 'GPU-11111111-2222-3333-4444-555555555555', name: 'NVIDIA H100 80GB HBM3',
    memTotalBytes: 81559 * MIB, memUsedBytes: 4 * MIB, pciBusId: '0000:2a:00.0',
  });
  assert.equal(devices.length, 2);
});

test('parseQueryGpu: [N/A], [Not Supported], extra spaces and blank lines', () => {
  const [gb10, rtx] = parseQueryGpu(readFixture('nvidia-smi-query-gpu-na.csv'));
  assert.deepEqual(gb10, {
    index: 0, source: 'nvidia-smi', uuid: 'GPU-0c6e3b6d-7f3a-4a6e-9a47-2f0b6a5f1d3e', name: 'NVIDIA GB10', pciBusId: '000f:01:00.0',
  });
  assert.equal(rtx!.name, 'NVIDIA GeForce RTX 3090');
  assert.equal(rtx!.uuid, 'GPU-5d0a9e1c-1b2f-4c3d-8e9f-0a1b2c3d4e5f');
  assert.equal(rtx!.memTotalBytes, 24576 * MIB);
  assert.equal('memUsedBytes' in rtx!, false);
});

test('parseQueryGpu: blank output and garbage give no devices; a comma in a name survives', () => {
  assert.deepEqual(parseQueryGpu(''), []);
  assert.deepEqual(parseQueryGpu('\n\n'), []);
  assert.deepEqual(parseQueryGpu(readFixture('nvidia-smi-failed.txt')), []);
  const [d] = parseQueryGpu('0, GPU-x, Odd, Name, 100, 1, 00000000:01:00.0\r\n');
  assert.deepEqual([d!.name, d!.memTotalBytes, d!.pciBusId], ['Odd, Name', 100 * MIB, '0000:01:00.0']);
});

test('parseQueryComputeApps maps uuids to indexes; [N/A] memory is null; unknown uuid is device -1', () => {
  const devices = parseQueryGpu(readFixture('nvidia-smi-query-gpu.csv'));
  const procs = parseQueryComputeApps(readFixture('nvidia-smi-compute-apps.csv'), devices);
  assert.deepEqual(procs.map((p) => [p.pid, p.device, p.usedBytes]), [
    [4242, 0, 5632 * MIB], [4243, 0, null], [31337, 1, 1024 * MIB], [555, -1, null],
  ]);
  assert.ok(procs.every((p) => p.kind === 'compute' && p.sources.join() === 'nvidia-smi'));
  assert.deepEqual(parseQueryComputeApps(readFixture('nvidia-smi-compute-apps-empty.csv'), devices), []);
  assert.deepEqual(parseQueryComputeApps('No running processes found\n', devices), []);
});

test('probeNvidiaSmi runs the binary with both queries', async () => {
  const smi = fakeSmi('nvidia-smi', [
    `case "$1" in`,
    `  --query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id) cat '${FIXTURES}/nvidia-smi-query-gpu.csv';;`,
    `  --query-compute-apps=pid,gpu_uuid,used_memory) cat '${FIXTURES}/nvidia-smi-compute-apps.csv';;`,
    `  *) exit 2;;`,
    `esac`,
  ].join('\n'));
  const view = await probeNvidiaSmi({ path: smi });
  assert.deepEqual(view.probes, [{ name: 'nvidia-smi', ok: true }]);
  assert.equal(view.devices.length, 2);
  assert.equal(view.processes.length, 4);
});

test('probeNvidiaSmi: missing binary, driver failure and a hang are probe results', async () => {
  const missing = await probeNvidiaSmi({ path: join(dir, 'no-such-nvidia-smi') });
  assert.deepEqual([missing.devices, missing.probes[0]!.ok], [[], false]);
  assert.match(missing.probes[0]!.error!, /not found/);

  const failing = fakeSmi('failing-smi', `cat '${FIXTURES}/nvidia-smi-failed.txt'; exit 9`);
  const failed = await probeNvidiaSmi({ path: failing });
  assert.equal(failed.probes[0]!.ok, false);
  assert.match(failed.probes[0]!.error!, /exited with 9: NVIDIA-SMI has failed because it couldn't communicate/);

  const hanging = fakeSmi('hanging-smi', 'exec sleep 30');
  const started = Date.now();
  const hung = await probeNvidiaSmi({ path: hanging, timeoutMs: 200 });
  assert.ok(Date.now() - started < 5000);
  assert.match(hung.probes[0]!.error!, /timed out after 200 ms/);
});
