import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_DURATION_MS, formatDuration, parseDuration } from '../../src/config/duration.ts';
import { parseDurationValue } from '../../src/config/pool-values.ts';
import { UsageError, suggest } from '../../src/config/errors.ts';
import { parseSignal } from '../../src/config/signals.ts';

test('durations read like 500ms, 90s, 10m, 2h, 1h30m; a bare number is seconds', () => {
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90s'), 90_000);
  assert.equal(parseDuration('10m'), 600_000);
  assert.equal(parseDuration('2h'), 7_200_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('3'), 3000);
  for (const bad of ['', '5 minutes', '10x', '-1s', 's']) assert.throws(() => parseDuration(bad, '--grace'), (e) => e instanceof UsageError && /--grace/.test(e.message));
  assert.equal(formatDuration(1500), '1.5s');
  assert.equal(formatDuration(3_725_000), '1h02m');
});

test('long durations are exact; absurd ones (over 3650d, or not finite) are a usage error naming the bound', () => {
  assert.equal(parseDuration('25d'), 25 * 86_400_000);
  assert.equal(parseDuration('30d'), 2_592_000_000);
  assert.equal(parseDuration('3650d'), MAX_DURATION_MS);
  assert.ok(Number.isSafeInteger(MAX_DURATION_MS * 1000), 'far inside the safe integers: a deadline never loses precision');
  const huge = ['3651d', '87601h', '1000000000000000000000s', '9'.repeat(400), `${'9'.repeat(400)}d`, '99999999999999999999d1s'];
  for (const bad of huge) {
    assert.throws(() => parseDuration(bad, '--timeout'), (e) => e instanceof UsageError && /--timeout/.test(e.message) && /3650d/.test(e.message), bad);
  }
  assert.throws(() => parseDuration('1000000y', '--timeout'), (e) => e instanceof UsageError && /invalid --timeout/.test(e.message));
  // the pool's keys and flags (timeout:, backoff:, grace:) go through the same bound
  assert.equal(parseDurationValue('30d', true), 2_592_000_000);
  assert.throws(() => parseDurationValue('4000d', true), /expected a duration of at most 3650d \(about 10 years\), found '4000d'/);
  assert.throws(() => parseDurationValue('9'.repeat(400), false), /at most 3650d/);
});

test('signals by name, short name or number; a typo gets a suggestion', () => {
  assert.equal(parseSignal('TERM'), 'SIGTERM');
  assert.equal(parseSignal('sigint'), 'SIGINT');
  assert.equal(parseSignal('9'), 'SIGKILL');
  assert.throws(() => parseSignal('TREM'), (e) => e instanceof UsageError && e.hint === 'did you mean SIGTERM?');
  assert.equal(suggest('timout', ['timeout', 'retries']), 'timeout');
  assert.equal(suggest('zzzzzz', ['timeout']), undefined);
});
