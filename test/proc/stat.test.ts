import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseStat, readStat } from '../../src/proc/stat.ts';

test('parseStat splits at the last parenthesis, so a comm with spaces and ") (" is read whole', () => {
  const line = '4242 (evil) (name 1) T 17 4242 4242 0 -1 4194560 0 0 0 0 7 3 0 0 20 0 1 0 123456 1000 250 18446744073709551615';
  const st = parseStat(line)!;
  assert.equal(st.pid, 4242);
  assert.equal(st.comm, 'evil) (name 1');
  assert.equal(st.state, 'T');
  assert.equal(st.ppid, 17);
  assert.equal(st.pgid, 4242);
  assert.equal(st.sid, 4242);
  assert.equal(st.cpuTicks, 10);
  assert.equal(st.threads, 1);
  assert.equal(st.starttime, 123456);
  assert.equal(st.rssPages, 250);
});

test('parseStat rejects text that is not a stat line', () => {
  assert.equal(parseStat('garbage'), null);
});

test('readStat reads this process and returns null for a pid that does not exist', () => {
  const me = readStat(process.pid)!;
  assert.equal(me.pid, process.pid);
  assert.equal(me.ppid, process.ppid);
  assert.ok(me.starttime > 0);
  assert.equal(readStat(2 ** 22 + 1), null);
});
