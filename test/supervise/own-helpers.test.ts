import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing the tests started is left'));

// Issue 8.8: nvidia-smi, run by the pool's preflight while the supervisor is a subreaper, is corral's own
// child, never an 'adopted' member of the run (it would be registered, signalled and counted).
test("corral's own helper processes (nvidia-smi during preflight) are never collected as members of the run", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'corral-smi-'));
  const log = join(dir, 'smi-pids');
  const smi = join(dir, 'nvidia-smi');
  // lives long enough for several registry passes (50 ms apart) to see it; prints no processes
  writeFileSync(smi, `#!/bin/sh\necho $$ >> "${log}"\nexec sleep 0.6\n`);
  chmodSync(smi, 0o755);
  writeFileSync(join(dir, 'nvidia0'), '');
  const home = tempHome();
  const token = t.token('smi');
  const res = await runCorral(['pool', '--gpus', '0', '--per-gpu', '1', '--preflight', 'warn', '--', 'sh', '-c', 'sleep 0.3', '{}', ':::', 'a', 'b'], {
    home,
    env: { PATH: `${dir}:${process.env.PATH}`, CORRAL_GPU_DEV_DIR: dir, CORRAL_GPU_PROBES: 'nvidia-smi', CORRAL_POLL_MS: '50', CORRAL_TEST_TOKEN: token },
  });
  assert.equal(res.code, 0, res.stderr);
  assert.ok(existsSync(log), 'preflight ran the fake nvidia-smi');
  const smiPids = readFileSync(log, 'utf8').trim().split('\n').map(Number);
  const db = openLedger(join(home, 'ledger.sqlite'));
  const run = listRuns(db)[0]!;
  const rows = db.prepare('SELECT pid, how FROM registry WHERE run_id = ?').all(run.id) as { pid: number; how: string }[];
  db.close();
  assert.ok(rows.length > 0, 'the tasks themselves were registered');
  assert.deepEqual(rows.filter((r) => smiPids.includes(r.pid)), [], 'no nvidia-smi in the registry');
});
