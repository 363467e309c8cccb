import assert from 'node:assert/strict';
import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCorral, tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { exitOf, spawnCorral, watchPeak } from './streams-kit.ts';

// Issue 9 item 8: `corral logs` streams a log (one chunk in memory), stops cleanly when its reader goes.
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing may be left alive'));

/** A finished run whose log the test then grows to 300 MB of text lines (not zeros: a sparse file would not show a buffering reader). */
async function runWithBigLog(home: string): Promise<string> {
  const log = join(home, 'job.log');
  const res = await runCorral(['run', '-q', '--log', log, '--', 'echo', 'first line'], { home });
  assert.equal(res.code, 0, res.stderr);
  const line = Buffer.from('a log line of a chatty job, repeated until the file is 300 MB\n');
  const block = Buffer.alloc(1024 * 1024);
  for (let o = 0; o < block.length; o += line.length) line.copy(block, o);
  const fd = openSync(log, 'a');
  for (let i = 0; i < 286; i++) writeSync(fd, block);
  closeSync(fd);
  return log;
}

test('corral logs of a 300 MB log piped to a reader that stops after 100 bytes exits cleanly and at once', async () => {
  const home = tempHome();
  await runWithBigLog(home);
  const started = performance.now();
  const corral = spawnCorral(['logs', 'last'], home, ['ignore', 'pipe', 'pipe']);
  t.pid(corral.pid);
  let got = 0;
  let stderr = '';
  corral.stderr!.on('data', (d) => (stderr += d));
  corral.stdout!.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= 100) corral.stdout!.destroy(); // head -c 100
  });
  const { code, signal } = await exitOf(corral);
  const ms = performance.now() - started;
  console.log(`corral logs | head -c 100: exit ${code} after ${ms.toFixed(0)} ms`);
  assert.equal(code, 0, `${signal} ${stderr}`);
  assert.doesNotMatch(stderr, /EPIPE|internal error|Cannot create a string/);
  assert.ok(ms < 10_000, `took ${ms} ms`);
});

test('corral logs of a 300 MB log to /dev/null keeps its memory flat', async () => {
  const home = tempHome();
  await runWithBigLog(home);
  const devnull = openSync('/dev/null', 'w');
  const corral = spawnCorral(['logs', 'last'], home, ['ignore', devnull, 'pipe']);
  closeSync(devnull);
  t.pid(corral.pid);
  const peak = watchPeak(corral.pid!);
  let stderr = '';
  corral.stderr!.on('data', (d) => (stderr += d));
  const { code } = await exitOf(corral);
  const peakMiB = peak.stop();
  console.log(`corral logs > /dev/null of 300 MB: peak RSS ${peakMiB.toFixed(1)} MiB`);
  assert.equal(code, 0, stderr);
  assert.ok(peakMiB > 0 && peakMiB < 150, `peak RSS ${peakMiB} MiB`);
});

test('corral logs prints the rotated part (FILE.1) before the current file', async () => {
  const home = tempHome();
  const log = join(home, 'r.log');
  const script = 'i=0; while [ $i -lt 400 ]; do printf "line %04d %0100d\\n" $i 0; i=$((i+1)); done';
  assert.equal((await runCorral(['run', '-q', '--log', log, '--log-max', '16K', '--', 'sh', '-c', script], { home })).code, 0);
  const out = (await runCorral(['logs', 'last'], { home })).stdout.split('\n').filter(Boolean);
  // FILE.1 starts where a rotation happened, which may be inside a line: only whole lines count
  const numbers = out.map((l) => Number(/^line (\d+) 0{100}$/.exec(l)?.[1])).filter((n, i) => i > 0 || !Number.isNaN(n));
  assert.equal(numbers.at(-1), 399, 'the newest line is kept');
  // between one and two caps are kept: more lines than FILE alone can hold (16384 / 111 bytes) means FILE.1 was read
  assert.ok(numbers.length > Math.floor(16384 / 111) && numbers.length < 400, `${numbers.length} lines kept: FILE.1 and FILE`);
  assert.deepEqual(numbers, numbers.map((_, i) => numbers[0]! + i), 'in order, without gaps');
});
