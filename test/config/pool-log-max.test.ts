import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { listRuns } from '../../src/ledger/runs.ts';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { writePool, yamlLines } from './temp-pool.ts';

const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

// 200 KiB of output per task: far past a 4K cap.
const NOISY = 'head -c 204800 /dev/zero | tr "\\0" x';

function logsOf(home: string): { files: string[]; sizes: number[]; rotated: number } {
  const db = openLedger(join(home, 'ledger.sqlite'));
  const run = listRuns(db)[0]!;
  const rotated = (db.prepare("SELECT count(*) AS n FROM events WHERE run_id = ? AND kind = 'log-rotated'").get(run.id) as { n: number }).n;
  db.close();
  const dir = join(home, 'logs', run.id);
  const files = readdirSync(dir).filter((f) => f.includes('.log'));
  return { files, sizes: files.map((f) => statSync(join(dir, f)).size), rotated };
}

test("a pool's task logs are capped by --log-max and by the pool file's log_max", async () => {
  const token = t.token('logmax');
  const home = tempHome();
  const res = await runCorral(['pool', '--jobs', '2', '--log-max', '4K', '--', 'sh', '-c', NOISY, '{}', ':::', 'a', 'b'], { home, env: { CORRAL_TEST_TOKEN: token } });
  assert.equal(res.code, 0, res.stderr);
  const cli = logsOf(home);
  assert.ok(cli.files.some((f) => f.endsWith('.log.1')), `rotated parts: ${cli.files}`);
  assert.ok(cli.sizes.every((s) => s <= 4096), `every file within the cap: ${cli.sizes}`);
  assert.equal(cli.rotated, 2, 'each task recorded its rotation');

  const fileHome = tempHome();
  const pool = writePool(yamlLines('jobs: 1', 'log_max: 4K', 'items: [a]', 'stages:', `  - run: [sh, -c, '${NOISY}', '{}']`));
  const viaFile = await runCorral(['pool', pool], { home: fileHome, env: { CORRAL_TEST_TOKEN: token } });
  assert.equal(viaFile.code, 0, viaFile.stderr);
  assert.ok(logsOf(fileHome).sizes.every((s) => s <= 4096));
});

test('a bad log cap is a usage error before anything starts', async () => {
  const home = tempHome();
  const flag = await runCorral(['pool', '--jobs', '1', '--log-max', '12', '--', 'true', ':::', 'a'], { home });
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--log-max '12' is out of range/);
  const pool = writePool(yamlLines('jobs: 1', 'log_max: lots', 'items: [a]', 'stages:', '  - run: true'));
  const file = await runCorral(['pool', pool], { home });
  assert.equal(file.code, 2);
  assert.match(file.stderr, /log_max/);
  assert.deepEqual(readdirSync(home), [], 'nothing written');
});
