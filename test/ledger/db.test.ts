import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { openLedger, schemaVersion } from '../../src/ledger/db.ts';
import { corralHome } from '../../src/ledger/location.ts';
import { insertRun, findRun, updateRun, runsActiveAt } from '../../src/ledger/runs.ts';
import { registerProcesses, registryOfRun, markGone, lookupIdentity } from '../../src/ledger/registry.ts';
import { newRunId } from '../../src/ledger/ids.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'corral-ledger-'));

test('the home follows CORRAL_HOME, then XDG_STATE_HOME, then ~/.local/state', () => {
  assert.equal(corralHome({ CORRAL_HOME: '/a', XDG_STATE_HOME: '/b', HOME: '/h' }), '/a');
  assert.equal(corralHome({ XDG_STATE_HOME: '/b', HOME: '/h' }), '/b/corral');
  assert.equal(corralHome({ HOME: '/h' }), '/h/.local/state/corral');
});

test('a new ledger is migrated to the latest version in WAL mode; reopening changes nothing', () => {
  const path = join(dir(), 'l.sqlite');
  const db = openLedger(path);
  assert.equal((db.prepare('PRAGMA journal_mode').get() as { journal_mode: string }).journal_mode, 'wal');
  assert.equal((db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, schemaVersion());
  db.close();
  const again = openLedger(path);
  assert.equal((again.prepare('PRAGMA user_version').get() as { user_version: number }).user_version, schemaVersion());
  again.close();
});

test('runs are found by id, prefix, name and last; a second connection sees committed rows at once', () => {
  const path = join(dir(), 'l.sqlite');
  const a = openLedger(path);
  const b = openLedger(path);
  const id1 = newRunId(new Date(Date.UTC(2026, 0, 1)));
  const id2 = newRunId(new Date(Date.UTC(2026, 0, 2)));
  for (const [id, at] of [[id1, 1000], [id2, 5000]] as const) {
    insertRun(a, { id, kind: 'run', name: 'exp', argv: '[]', cwd: '/', uid: 0, user: 'u', host: 'h', supervisor_pid: 1, supervisor_starttime: 1, config: '{}', started_at: at, boot_id: 'boot-a', start_ticks: at / 10 });
  }
  updateRun(a, id1, { ended_at: 2000, end_ticks: 200, status: 'succeeded' });
  assert.equal(findRun(b, id1)?.id, id1);
  assert.equal(findRun(b, id2.slice(0, 17))?.id, id2);
  assert.equal(findRun(b, 'last')?.id, id2);
  assert.equal(findRun(b, 'exp')?.id, id2);
  // 'active at' is in clock ticks since boot, and only within the same boot
  assert.deepEqual(runsActiveAt(b, 'boot-a', 150).map((r) => r.id), [id1]);
  assert.deepEqual(runsActiveAt(b, 'boot-a', 600).map((r) => r.id), [id2]);
  assert.deepEqual(runsActiveAt(b, 'boot-b', 150), []);
  registerProcesses(a, id2, [{ pid: 10, starttime: 99, jobId: `${id2}.main`, ppid: 1, uid: 0, comm: 'x', cmdline: ['x'], how: 'tree' }]);
  registerProcesses(a, id2, [{ pid: 10, starttime: 99, jobId: 'other', ppid: 1, uid: 0, comm: 'x', cmdline: ['x'], how: 'marker' }]);
  assert.equal(lookupIdentity(b, { pid: 10, starttime: 99 })?.job_id, `${id2}.main`, 'the first attribution is kept');
  markGone(a, [{ pid: 10, starttime: 99 }]);
  assert.equal(registryOfRun(b, id2, { live: true }).length, 0);
  a.close();
  b.close();
});
