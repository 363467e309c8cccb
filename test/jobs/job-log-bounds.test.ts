import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempHome } from '../helpers/corral.ts';
import { Tracker } from '../helpers/procs.ts';
import { exitOf, readLedger, spawnCorral, watchPeak } from '../cli/streams-kit.ts';

// Issue 9 item 8: corral's memory stays flat whatever a job writes (backpressure from a slow reader of
// corral's own output and from the log file), and a log is capped (--log-max) with rotation to FILE.1.
const t = new Tracker();
after(async () => assert.deepEqual(await t.cleanup(), [], 'nothing may be left alive'));

const MIB = 1024 * 1024;
const RSS_BOUND_MIB = 150;

test('300 MB through --log --log-max 1M to a slow reader: flat memory, files under 2x the cap, the ledger records the truncation', async () => {
  const home = tempHome();
  const log = join(home, 'big.log');
  const corral = spawnCorral(['run', '-q', '--log', log, '--log-max', '1M', '--', 'head', '-c', '300000000', '/dev/zero'], home, ['ignore', 'pipe', 'pipe']);
  t.pid(corral.pid);
  const peak = watchPeak(corral.pid!);
  let echoed = 0;
  let stderr = '';
  corral.stderr!.on('data', (d) => (stderr += d));
  // a slow reader: a pause of 15 ms after every 8 MB (about 0.6 s in all); a buffering corral grows here
  let nextPause = 8 * MIB;
  corral.stdout!.on('data', (d: Buffer) => {
    echoed += d.length;
    if (echoed >= nextPause) {
      nextPause += 8 * MIB;
      corral.stdout!.pause();
      setTimeout(() => corral.stdout!.resume(), 15);
    }
  });
  const { code } = await exitOf(corral);
  const peakMiB = peak.stop();
  console.log(`corral peak RSS (VmHWM) ${peakMiB.toFixed(1)} MiB for 300 MB echoed and logged`);
  assert.equal(code, 0, stderr);
  assert.equal(echoed, 300_000_000, 'everything was echoed');
  assert.ok(peakMiB > 0 && peakMiB < RSS_BOUND_MIB, `peak RSS ${peakMiB} MiB`);
  const files = readdirSync(home).filter((f) => f.startsWith('big.log'));
  assert.deepEqual(files.sort(), ['big.log', 'big.log.1']);
  const total = files.reduce((n, f) => n + statSync(join(home, f)).size, 0);
  assert.ok(total <= 2 * MIB, `the log files hold ${total} bytes`);
  assert.ok(statSync(join(home, 'big.log.1')).size > 0);
  const ledger = readLedger(home);
  const rotated = ledger.events.filter((e) => e.kind === 'log-rotated');
  assert.equal(rotated.length, 1, 'the first rotation is recorded once');
  assert.equal(rotated[0]!.data.capBytes, MIB);
  const truncated = ledger.events.find((e) => e.kind === 'log-truncated');
  assert.ok(truncated, 'the attempt end records what was given up');
  assert.equal(truncated.data.droppedBytes, 300_000_000 - total);
});

test('--log-max is checked before anything starts', async () => {
  const home = tempHome();
  for (const [args, msg] of [[['--log', '--log-max', 'lots'], /invalid --log-max 'lots'/], [['--log', '--log-max', '10'], /--log-max '10' is out of range/], [['--log-max', '1M'], /--log-max applies only to a log/]] as const) {
    const corral = spawnCorral(['run', ...args, '--', 'true'], home, ['ignore', 'pipe', 'pipe']);
    let stderr = '';
    corral.stderr!.on('data', (d) => (stderr += d));
    const closed = new Promise((r) => corral.once('close', r));
    assert.equal((await exitOf(corral)).code, 2);
    await closed;
    assert.match(stderr, msg);
  }
  assert.deepEqual(readdirSync(home), []);
});
