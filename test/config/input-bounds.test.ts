import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCorral, startCorral, tempHome } from '../helpers/corral.ts';
import { Tracker, waitFor } from '../helpers/procs.ts';
import { makeTempDir, writePool } from './temp-pool.ts';

/*
 * Issue 9 item 9: inputs that would exhaust the machine or crash after the run was created are usage
 * errors (exit 2) before anything starts: no ledger, no logs.
 */
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), []));

async function refused(args: string[], message: RegExp, env: NodeJS.ProcessEnv = {}) {
  const home = tempHome();
  const started = performance.now();
  const res = await runCorral(args, { home, env: { CORRAL_TEST_TOKEN: t.token('bounds'), ...env } });
  assert.equal(res.code, 2, res.stderr);
  assert.match(res.stderr, message);
  assert.doesNotMatch(res.stderr, /\n\s+at /, 'no stack trace');
  assert.deepEqual(readdirSync(home), [], 'no ledger, no logs');
  return performance.now() - started;
}

const d = makeTempDir();
const long = join(d, 'long.txt');
writeFileSync(long, `short\n${'x'.repeat((1 << 20) + 1)}\n`);
const many = join(d, 'many.txt');
writeFileSync(many, Array.from({ length: 100_001 }, (_, i) => `i${i}`).join('\n'));
const nulText = join(d, 'nul.txt');
writeFileSync(nulText, 'a\nb\0c\n');
const nulJson = join(d, 'nul.jsonl');
writeFileSync(nulJson, '{"ckpt": "a\\u0000b"}\n');

const CASES: [string, string[], RegExp][] = [
  ['--items /dev/zero', ['pool', '--jobs', '1', '--items', '/dev/zero', '--', 'echo'], /--items: expected a regular file or a FIFO of items, found a character device at \/dev\/zero/],
  ['items: {file: /dev/zero}', ['pool', writePool('jobs: 1\nitems: {file: /dev/zero}\nstages:\n  - run: echo {}\n')], /pool\.yaml:2:15: items\.file: expected a regular file or a FIFO of items, found a character device/],
  ['pool file /dev/zero', ['pool', '/dev/zero'], /cannot read pool file \/dev\/zero: expected a regular file/],
  ['a line over 1 MiB', ['pool', '--jobs', '1', '--items', long, '--', 'echo'], /expected lines of at most 1 MiB, found a longer line at .*long\.txt:2/],
  ['more than 100000 items', ['pool', '--jobs', '1', '--items', many, '--', 'echo'], /expected at most 100000 items/],
  ['--jobs 2^53-1', ['pool', '--jobs', '9007199254740991', '--', 'echo', ':::', 'a'], /--jobs: expected a whole number of at most 4096, found '9007199254740991'/],
  ['--jobs 1e30', ['pool', '--jobs', '1000000000000000000000000000000', '--', 'echo', ':::', 'a'], /--jobs: expected a whole number of at most 4096/],
  ['1024 GPUs x 100000', ['pool', writePool('gpus: 0-1023\nper_gpu: 100000\nitems: [a]\nstages:\n  - run: echo {}\n')], /per_gpu: expected a whole number of at most 4096/],
  ['1024 GPUs x 5', ['pool', '--gpus', '0-1023', '--per-gpu', '5', '--', 'echo', ':::', 'a'], /--per-gpu: expected at most 4096 tasks at once, found 1024 GPUs x 5 per GPU = 5120/],
  ['NUL in a text item', ['pool', '--jobs', '1', '--items', nulText, '--', 'echo'], /--items: expected item 2 without NUL bytes, found a NUL byte at character 2/],
  ['NUL in a JSON field', ['pool', '--jobs', '1', '--items', nulJson, '--', 'echo', '{ckpt}'], /expected item 1's field 'ckpt' without NUL bytes/],
  ['NUL in an env value', ['pool', writePool('jobs: 1\nitems: [a]\nenv: {K: "a\\0b"}\nstages:\n  - run: echo {}\n')], /pool\.yaml:3:\d+: env\.K: expected the value of K without NUL bytes/],
  ['NUL in cwd', ['pool', writePool('jobs: 1\nitems: [a]\ncwd: "/tmp\\0x"\nstages:\n  - run: echo {}\n')], /cwd: expected a directory path without NUL bytes/],
  ['NUL in an inline item', ['pool', writePool('jobs: 1\nitems: ["a\\0b"]\nstages:\n  - run: echo {}\n')], /items: expected item 1 without NUL bytes/],
  ['NUL in a command', ['pool', writePool('jobs: 1\nitems: [a]\nstages:\n  - run: "echo \\0 {}"\n')], /run: expected a command without NUL bytes/],
];
for (const [name, args, message] of CASES) {
  test(`refused before anything starts: ${name}`, async () => {
    const ms = await refused(args, message);
    assert.ok(ms < 20_000, `answered in ${Math.round(ms)} ms`);
  });
}

test('an items FIFO nobody writes is refused after its deadline, not waited on for ever', async () => {
  const fifo = join(makeTempDir(), 'items.fifo');
  spawnSync('mkfifo', [fifo]);
  const ms = await refused(['pool', '--jobs', '1', '--items', fifo, '--', 'echo'], /expected the writer of .*items\.fifo to send the items and close it within 2s, found no items/, { CORRAL_ITEMS_FIFO_MS: '2000' });
  assert.ok(ms >= 2000 && ms < 15_000, `${Math.round(ms)} ms`);
});

test('a FIFO and a pipe on stdin are read as a stream: their items run', async () => {
  const dir = makeTempDir();
  const fifo = join(dir, 'items.fifo');
  spawnSync('mkfifo', [fifo]);
  const home = tempHome();
  const env = { CORRAL_TEST_TOKEN: t.token('fifo') };
  const pool = startCorral(['pool', '-q', '--jobs', '2', '--items', fifo, '--', `touch ${dir}/{}`], { home, env });
  // the writer opens late and writes in two parts: corral waits for its close, not its first bytes
  const writer = spawn('sh', ['-c', `sleep 0.5; exec 3>"$1"; printf 'a\\nb\\n' >&3; sleep 0.3; printf 'c\\n' >&3`, 'sh', fifo], { stdio: 'ignore' });
  t.pid(writer.pid);
  const res = await pool.done;
  assert.equal(res.code, 0, res.stderr);
  for (const f of ['a', 'b', 'c']) assert.ok(existsSync(join(dir, f)), f);

  const piped = spawnSync('sh', ['-c', `printf 'x\\ny\\n' | "$0" "$1" pool -q --jobs 1 --items - -- 'touch ${dir}/{}'`, process.execPath, join(import.meta.dirname, '../../bin/corral.js')], {
    env: { ...process.env, CORRAL_HOME: home, ...env }, encoding: 'utf8',
  });
  assert.equal(piped.status, 0, piped.stderr);
  assert.ok(existsSync(join(dir, 'x')) && existsSync(join(dir, 'y')));
  await waitFor(() => t.alive().length === 0, 'nothing left', 5000);
  assert.ok(readFileSync(join(home, 'ledger.sqlite')).length > 0);
});
