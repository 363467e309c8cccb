import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadNvml, type NvmlHandle } from '../../src/gpu/nvml-bindings.ts';
import { probeNvml, queryProcesses } from '../../src/gpu/nvml.ts';
import { buildFakeNvml } from './gpu-fixtures.ts';
import { skipOrFail } from '../helpers/skip.ts';

// These run the real koffi binding code against fake-nvml.c, a stand-in libnvidia-ml built here.
const dir = mkdtempSync(join(tmpdir(), 'corral-nvml-'));
const libs: Record<24 | 32, string | null> = { 24: null, 32: null };
const ENV = ['FAKE_NVML_COMPUTE0', 'FAKE_NVML_GRAPHICS0', 'FAKE_NVML_COMPUTE1', 'FAKE_NVML_INIT_RC'];

before(() => {
  libs[24] = buildFakeNvml(dir, 24);
  libs[32] = buildFakeNvml(dir, 32);
});
after(() => {
  for (const v of ENV) delete process.env[v];
  rmSync(dir, { recursive: true, force: true });
});

function setProcesses(): void {
  // seven processes on device 0: more than the first round's capacity, so the loop must go round twice
  process.env.FAKE_NVML_COMPUTE0 = '4242:5632,4243:na,101:1,102:2,103:3,104:4,105:5';
  process.env.FAKE_NVML_GRAPHICS0 = '4242:100';
  process.env.FAKE_NVML_COMPUTE1 = '31337:1024';
  delete process.env.FAKE_NVML_INIT_RC;
}

for (const size of [24, 32] as const) {
  test(`probeNvml through koffi, driver writing ${size}-byte entries`, (t) => {
    const lib = libs[size];
    if (!lib) return skipOrFail(t, 'no C compiler to build the fake NVML');
    setProcesses();
    const view = probeNvml({ library: lib });
    assert.equal(view.probes[0]!.ok, true, view.probes[0]!.error);
    assert.match(view.probes[0]!.detail!, new RegExp(`process entries: ${size} bytes`));
    assert.deepEqual(view.devices.map((d) => [d.index, d.minor, d.uuid?.slice(0, 12), d.memUsedBytes]), [
      [0, 1, 'GPU-11111111', 6039797760],
      [1, 0, 'GPU-aaaaaaaa', 4194304],
    ]);
    assert.equal(view.devices[0]!.name, 'NVIDIA H100 80GB HBM3');
    assert.equal(view.devices[0]!.memTotalBytes, 85520809984);
    assert.deepEqual(view.devices.map((d) => d.utilPercent), [87, 0], 'utilisation from nvmlDeviceGetUtilizationRates');
    const byPid = new Map(view.processes.map((p) => [p.pid, p]));
    assert.equal(view.processes.length, 8);
    // in both lists: one entry, counted as compute, with the compute figure
    assert.deepEqual(byPid.get(4242), { pid: 4242, device: 0, usedBytes: 5632 * 2 ** 20, kind: 'compute', sources: ['nvml'] });
    assert.equal(byPid.get(4243)!.usedBytes, null);
    assert.equal(byPid.get(105)!.usedBytes, 5 * 2 ** 20);
    assert.deepEqual([byPid.get(31337)!.device, byPid.get(31337)!.usedBytes], [1, 1024 * 2 ** 20]);
    assert.equal(view.probes[0]!.warnings, undefined); // graphics NOT_SUPPORTED on device 1 is no warning
  });
}

test('queryProcesses loops on INSUFFICIENT_SIZE until the buffer is large enough', (t) => {
  const path = libs[24];
  if (!path) return skipOrFail(t, 'no C compiler to build the fake NVML');
  setProcesses();
  const lib = loadNvml(path);
  const calls = createRequire(import.meta.url)('koffi').load(path).func('unsigned int fakeNvmlQueryCalls()') as () => number;
  assert.equal(lib.init(), 0);
  try {
    const handle: NvmlHandle[] = [null];
    assert.equal(lib.handleByIndex(0, handle), 0);
    const before = calls();
    const res = queryProcesses(lib.computeProcesses, handle[0]);
    // sizing call (stale count 1), 5 entries of room (too few: 7 again), then 11 entries of room
    assert.equal(calls() - before, 3);
    assert.equal(res.error, undefined);
    assert.equal(res.infos.length, 7);
  } finally {
    lib.shutdown();
  }
});

test('nvmlInit_v2 failing (driver not loaded) is a probe result, not a throw', (t) => {
  if (!libs[24]) return skipOrFail(t, 'no C compiler to build the fake NVML');
  process.env.FAKE_NVML_INIT_RC = '9';
  try {
    const view = probeNvml({ library: libs[24] });
    assert.deepEqual(view.devices, []);
    assert.equal(view.probes[0]!.ok, false);
    assert.match(view.probes[0]!.error!, /nvmlInit_v2: Driver Not Loaded/);
  } finally {
    delete process.env.FAKE_NVML_INIT_RC;
  }
});

test('a library that cannot be loaded is a probe result, not a throw', () => {
  const view = probeNvml({ library: join(dir, 'libnvidia-ml-missing.so.1') });
  assert.deepEqual([view.devices, view.processes], [[], []]);
  assert.equal(view.probes[0]!.ok, false);
  assert.match(view.probes[0]!.error!, /not loadable/);
});
