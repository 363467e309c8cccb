import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { GpuProcessRow } from '../../src/cli/gpus.ts';
import { openLedger } from '../../src/ledger/db.ts';
import { attemptsOfRun } from '../../src/ledger/jobs.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { readStat } from '../../src/proc/stat.ts';
import { FIXTURES, runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { STRAY_FIXTURES } from '../strays/stray-kit.ts';
import { requireInCI } from '../helpers/skip.ts';

const t = new Tracker();
after(async () => {
  assert.deepEqual(await t.cleanup(), [], 'the run tore down its job; the orphan was killed by the test');
});

test('gpus: devices, and per process its memory, user, owning run and stray reasons', async () => {
  const token = t.token('gpus');
  const home = tempHome();
  const dev = mkdtempSync(join(tmpdir(), 'corral-fakedev-'));
  chmodSync(dev, 0o755);
  writeFileSync(join(dev, 'nvidia0'), '');
  const nvml = join(dev, 'libfake-nvml.so');
  const haveNvml = requireInCI(spawnSync('cc', ['-shared', '-fPIC', '-O1', '-o', nvml, join(FIXTURES, 'gpu', 'fake-nvml.c')]).status === 0, 'the fake NVML library');
  // An orphan holding the device, and a live run's job holding it too.
  const orphan = spawn('/bin/sh', [join(STRAY_FIXTURES, 'orphan.sh'), token, join(dev, 'nvidia0')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  orphan.stdout.on('data', (d: Buffer) => (out += d));
  await new Promise((r) => orphan.on('close', r));
  const orphanPid = Number(out.trim());
  t.pid(orphanPid);
  const env = { CORRAL_GPU_DEV_DIR: dev, CORRAL_TEST_TOKEN: token, ...(haveNvml ? { CORRAL_NVML_LIBRARY: nvml, FAKE_NVML_COMPUTE0: `${orphanPid}:5632` } : { CORRAL_GPU_PROBES: 'procfs' }) };
  const run = startCorral(['run', '--grace', '500ms', '--', 'sh', '-c', 'exec 9<"$0"; exec sleep 100000', join(dev, 'nvidia0')], { home, env });
  t.pid(run.child.pid);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const jobPid = await waitFor(() => {
    const r = listRuns(db)[0];
    const pid = r ? attemptsOfRun(db, r.id)[0]?.pid : undefined;
    return pid && readStat(pid)?.comm === 'sleep' ? pid : undefined;
  }, 'the job holding the device');
  const runId = listRuns(db)[0]!.id;
  db.close();
  try {
    const res = await runCorral(['gpus', '--json'], { home, env });
    assert.equal(res.code, 0, res.stderr);
    const view = JSON.parse(res.stdout) as { devices: { index: number }[]; processes: GpuProcessRow[] };
    const stray = view.processes.filter((p) => p.pid === orphanPid);
    assert.ok(stray.length >= 1);
    assert.deepEqual([stray[0]!.user, stray[0]!.runId, stray[0]!.reasons], [userInfo().username, null, ['orphan', 'gpu-holder']]);
    const job = view.processes.find((p) => p.pid === jobPid)!;
    assert.deepEqual([job.runId, job.jobId, job.runLive, job.reasons], [runId, `${runId}.main`, true, []], 'a live run owns it: no stray reason');
    if (haveNvml) {
      assert.equal(view.devices.length, 2);
      assert.deepEqual([stray[0]!.device, stray[0]!.usedBytes, stray[0]!.kind], [0, 5632 * 2 ** 20, 'compute']);
      assert.equal(job.device, 1, "the fake NVML's GPU 1 is minor 0: /dev/nvidia0 maps to index 1");
    }
    const text = await runCorral(['gpus'], { home, env });
    assert.match(text.stdout, new RegExp(`\\b${orphanPid}\\b.*orphan,gpu-holder`));
    assert.match(text.stdout, new RegExp(`\\b${jobPid}\\b.*${runId}\\.main`));
    if (haveNvml) assert.match(text.stdout, /NVIDIA H100 80GB HBM3 .* 87%/, "the device row with its utilisation");
  } finally {
    process.kill(orphanPid, 'SIGKILL');
    run.child.kill('SIGTERM');
    await run.done;
  }
});

