import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeRetryDelay } from '../../src/config/pool-spec.ts';
import { parseCount, parseDurationValue, parseEnvName, parseHalt, parseMemSize, parsePreflight, parseSignalValue } from '../../src/config/pool-values.ts';
import { findStageProblem, sortStages } from '../../src/config/stage-order.ts';

test('halt policies', () => {
  assert.deepEqual(parseHalt('never'), { mode: 'never' });
  assert.deepEqual(parseHalt('soon-after:1'), { mode: 'soon', failures: 1 });
  assert.deepEqual(parseHalt('now-after: 5'), { mode: 'now', failures: 5 });
  assert.throws(() => parseHalt('soon-after'), { hint: 'give a number of failures, e.g. soon-after:3' });
  assert.throws(() => parseHalt('later-after:1'), /expected never, soon-after:N or now-after:N/);
});

test('memory sizes: binary and decimal units, a unit required, above zero', () => {
  assert.equal(parseMemSize('512MiB'), 512 * 2 ** 20);
  assert.equal(parseMemSize('1.5G'), 1.5 * 2 ** 30);
  assert.equal(parseMemSize('2GB'), 2e9);
  assert.equal(parseMemSize('64 kib'), 65_536);
  assert.throws(() => parseMemSize('0MiB'), /above zero/);
  assert.throws(() => parseMemSize('2048'), { hint: 'add a unit, e.g. 2048MiB' });
  assert.throws(() => parseMemSize('2 GiBs'), /found '2 GiBs'/);
});

test('counts, durations, signals, preflight and env names', () => {
  assert.equal(parseCount('3', 1), 3);
  assert.equal(parseCount(0, 0), 0);
  assert.throws(() => parseCount(1.5, 0), /found 1\.5/);
  assert.throws(() => parseCount('two', 0), /found 'two'/);
  assert.equal(parseDurationValue('1h30m', false), 5_400_000);
  assert.equal(parseDurationValue(0, true), 0);
  assert.throws(() => parseDurationValue('0s', false), /above zero/);
  assert.equal(parseSignalValue('hup'), 'SIGHUP');
  assert.equal(parseSignalValue(9), 'SIGKILL');
  assert.throws(() => parseSignalValue('SIGNOPE'), /found 'SIGNOPE'/);
  assert.equal(parsePreflight('reap'), 'reap');
  assert.throws(() => parsePreflight('wran'), /found 'wran' \(did you mean warn\?\)/);
  assert.equal(parseEnvName('SEED'), 'SEED');
  assert.throws(() => parseEnvName('CORRAL_RUN_ID'), /corral does not set/);
  assert.throws(() => parseEnvName('1X'), /expected an environment variable name/);
});

test('retry delay doubles from backoff, capped by backoff_max', () => {
  const capped = { backoffMs: 1_000, backoffMaxMs: 5_000 };
  assert.deepEqual([1, 2, 3, 4].map((r) => computeRetryDelay(capped, r)), [1_000, 2_000, 4_000, 5_000]);
  assert.equal(computeRetryDelay({ backoffMs: 500, backoffMaxMs: null }, 5), 8_000);
  assert.equal(computeRetryDelay({ backoffMs: 0, backoffMaxMs: null }, 3), 0);
});

test('stage graph: order, unknown needs, duplicates, cycles', () => {
  const st = (name: string, ...needs: string[]) => ({ name, needs });
  assert.deepEqual(sortStages([st('c', 'b'), st('a'), st('b', 'a'), st('d')]).map((s) => s.name), ['a', 'b', 'c', 'd']);
  assert.equal(findStageProblem([st('a'), st('b', 'a')]), null);
  assert.deepEqual(findStageProblem([st('alpha'), st('beta', 'xyz')]), { stage: 1, key: 'needs', need: 0, message: "expected the name of another stage (alpha), found 'xyz'" });
  assert.equal(findStageProblem([st('a'), st('a')])?.key, 'name');
  assert.match(findStageProblem([st('a', 'c'), st('b', 'a'), st('c', 'b')])?.message ?? '', /found a -> c -> b -> a/);
});
