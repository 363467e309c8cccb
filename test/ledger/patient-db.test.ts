import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { openLedger } from '../../src/ledger/db.ts';
import { newRunId } from '../../src/ledger/ids.ts';
import { getJob, insertJob } from '../../src/ledger/jobs.ts';
import { patientDb, writeTogether } from '../../src/ledger/patient-db.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { tempHome } from '../helpers/corral.ts';

// The supervisor's ledger connection (patient-db.ts) on a real SQLite ledger in a temp home.
function setUp() {
  const raw = openLedger(join(tempHome(), 'ledger.sqlite'));
  const runId = newRunId();
  insertRun(raw, {
    id: runId, kind: 'run', name: null, argv: '[]', cwd: process.cwd(), uid: 0, user: 'test', host: 'test', supervisor_pid: process.pid,
    supervisor_starttime: null, config: '{}', started_at: Date.now(), boot_id: currentBootId(), start_ticks: ticksNow(),
  });
  const faults: unknown[] = [];
  const { db } = patientDb(raw, (e) => faults.push(e));
  const job = (id: string) => ({ id: `${runId}.${id}`, run_id: runId, role: 'task', name: id, argv: '[]' });
  return { raw, db, runId, faults, job };
}

test('writeTogether: one moment is all or nothing; a write that cannot be made is one fault, and nothing of it is kept', () => {
  const { raw, db, faults, job } = setUp();
  insertJob(db, job('a'));
  writeTogether(db, () => {
    insertJob(db, job('b'));
    insertJob(db, job('a')); // the same id again: a constraint error, not a lock, so it is not retried
  });
  assert.equal(faults.length, 1, 'the failed moment is recorded once');
  assert.equal(getJob(raw, job('b').id), undefined, 'the first write of the failed moment was rolled back');
  assert.equal(raw.isTransaction, false);
  writeTogether(db, () => insertJob(db, job('c')));
  assert.ok(getJob(raw, job('c').id), 'the ledger takes the next moment');
  raw.close();
});

test('writeTogether on a plain connection throws the error after rolling back', () => {
  const { raw, job } = setUp();
  insertJob(raw, job('a'));
  assert.throws(() => writeTogether(raw, () => {
    insertJob(raw, job('b'));
    insertJob(raw, job('a'));
  }), /UNIQUE/);
  assert.equal(getJob(raw, job('b').id), undefined);
  assert.equal(raw.isTransaction, false);
  raw.close();
});

test('a statement is compiled once per connection and reused', () => {
  const { raw, db } = setUp();
  const sql = 'SELECT count(*) AS n FROM jobs WHERE run_id = ?';
  assert.equal(db.prepare(sql), db.prepare(sql));
  assert.notEqual(db.prepare(sql), db.prepare(`${sql} `));
  raw.close();
});
