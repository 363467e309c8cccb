import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { BIN, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { makeTempDir } from './temp-pool.ts';

/*
 * Issue 9 item 11: Node turns an argument's non-UTF-8 bytes into U+FFFD before corral sees it, and
 * spawn cannot pass raw bytes; corral refuses such an argument (exit 2) instead of running the job on a
 * changed name. The shell gets the raw bytes in: sh -c with printf escapes.
 */
const t = new Tracker();
after(async () => {
  await waitFor(() => t.alive().length === 0, 'nothing left', 5000).catch(() => {});
  assert.deepEqual(await t.cleanup(), []);
});

function corralViaShell(script: string, home: string) {
  return spawnSync('sh', ['-c', script, process.execPath, BIN], { env: { ...process.env, CORRAL_HOME: home, CORRAL_TEST_TOKEN: t.token('bytes') }, encoding: 'utf8' });
}

test("a non-UTF-8 argument (ls $'f\\xe9') is refused by name, before anything starts", () => {
  const home = tempHome();
  const res = corralViaShell(`exec "$0" "$1" pool --jobs 1 -- ls "$(printf 'f\\351')" ::: a`, home);
  assert.equal(res.status, 2, res.stderr);
  assert.match(res.stderr, /expected arguments in UTF-8, found argument 6 \$'f\\xe9' with bytes that are not UTF-8/);
  assert.match(res.stderr, /printf/);
  assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
  // the same check guards every command: `corral run -- ls $'f\xe9'` (the case) starts nothing
  const run = corralViaShell(`exec "$0" "$1" run -- ls "$(printf 'f\\351')"`, home);
  assert.equal(run.status, 2, run.stderr);
  assert.match(run.stderr, /found argument 4 \$'f\\xe9'/);
  assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
});

test('a non-UTF-8 items file is refused; UTF-8 items (é, 漢) arrive byte-exact', () => {
  const dir = makeTempDir();
  writeFileSync(join(dir, 'latin1.txt'), Buffer.from([0x66, 0xe9, 0x0a]));
  const home = tempHome();
  const bad = corralViaShell(`exec "$0" "$1" pool --jobs 1 --items ${dir}/latin1.txt -- ls`, home);
  assert.equal(bad.status, 2, bad.stderr);
  assert.match(bad.stderr, /expected UTF-8 text in .*latin1\.txt/);
  assert.deepEqual(readdirSync(home), []);
  const ok = corralViaShell(`exec "$0" "$1" pool -q --jobs 1 -- 'printf %s {} > ${dir}/out' ::: "f$(printf '\\303\\251')漢"`, home);
  assert.equal(ok.status, 0, ok.stderr);
  assert.deepEqual(readFileSync(join(dir, 'out')), Buffer.from('féé'.slice(0, 2) + '漢'));
});
