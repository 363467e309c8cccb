import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/config/duration.ts';
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

test('signals by name, short name or number; a typo gets a suggestion', () => {
  assert.equal(parseSignal('TERM'), 'SIGTERM');
  assert.equal(parseSignal('sigint'), 'SIGINT');
  assert.equal(parseSignal('9'), 'SIGKILL');
  assert.throws(() => parseSignal('TREM'), (e) => e instanceof UsageError && e.hint === 'did you mean SIGTERM?');
  assert.equal(suggest('timout', ['timeout', 'retries']), 'timeout');
  assert.equal(suggest('zzzzzz', ['timeout']), undefined);
});
