import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../../src/config/errors.ts';
import { openLedger, type Db } from '../../src/ledger/db.ts';
import { insertJob } from '../../src/ledger/jobs.ts';
import { resolveJobRef, resolveRef, resolveRunRef } from '../../src/ledger/refs.ts';
import { findRun, insertRun, updateRun } from '../../src/ledger/runs.ts';

let clock = 1_000;
function addRun(db: Db, id: string, name: string | null, status: 'running' | 'succeeded' = 'succeeded', jobs: string[] = ['main']): string {
  insertRun(db, {
    id, kind: 'run', name, argv: '[]', cwd: null, uid: 0, user: 'root', host: 'h', supervisor_pid: null, supervisor_starttime: null,
    config: null, started_at: clock++, boot_id: 'b', start_ticks: clock,
  });
  if (status !== 'running') updateRun(db, id, { status });
  for (const j of jobs) insertJob(db, { id: `${id}.${j}`, run_id: id, role: j === 'main' ? 'main' : 'task', name: j, argv: '[]' });
  return id;
}

function ledger(): Db {
  const db = openLedger(join(mkdtempSync(join(tmpdir(), 'corral-refs-')), 'ledger.sqlite'));
  addRun(db, '20261123-111800-a3f9', 'train', 'succeeded', ['main', 'sidecar1']);
  addRun(db, '20261123-111800-b000', 'exp.v2');
  addRun(db, '20261124-090000-c111', 'train', 'succeeded', ['main', 'sample.3', 'sample.10']);
  addRun(db, '20261124-100000-d222', 'sweep', 'running');
  addRun(db, '20261124-100001-e333', 'sweep', 'running');
  return db;
}

function usage(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof UsageError && pattern.test(`${e.message} ${e.hint ?? ''}`), `expected a UsageError matching ${pattern}`);
}

test('last, a full id, a unique prefix and a name each name one run', () => {
  const db = ledger();
  assert.equal(resolveRunRef(db, 'last').id, '20261124-100001-e333');
  assert.equal(resolveRunRef(db, '20261123-111800-a3f9').id, '20261123-111800-a3f9');
  assert.equal(resolveRunRef(db, '20261124-09').id, '20261124-090000-c111');
  assert.equal(resolveRunRef(db, 'train').id, '20261124-090000-c111', 'a name is the newest run of that name');
  assert.equal(resolveRunRef(db, 'exp.v2').id, '20261123-111800-b000', 'a name with a dot is still a run');
  assert.equal(findRun(db, 'train')?.id, '20261124-090000-c111');
});

test('an unknown reference is a usage error; an ambiguous one names the candidates', () => {
  const db = ledger();
  usage(() => resolveRunRef(db, 'nope'), /no run 'nope' in the ledger.*references: last/);
  usage(() => resolveRef(db, 'nope'), /no run or job 'nope'/);
  usage(() => resolveRunRef(db, ''), /empty/);
  usage(() => resolveRunRef(db, '20261123-111800'), /ambiguous: it is the start of 2 run ids: 20261123-111800-b000 \(exp.v2\) succeeded, 20261123-111800-a3f9 \(train\) succeeded/);
  // two running runs of one name: which one to stop is not for corral to guess
  usage(() => resolveRunRef(db, 'sweep'), /ambiguous: 2 running runs are named 'sweep': 20261124-100001-e333 \(sweep\) running, 20261124-100000-d222/);
  usage(() => resolveRunRef(db, '2026%'), /no run '2026%'/);
  assert.equal(findRun(db, 'sweep'), undefined, 'findRun names nothing rather than a guess');
});

test('RUN.JOB takes any run reference and a job name, dots in job names included', () => {
  const db = ledger();
  const j = (ref: string) => resolveJobRef(db, ref).job.id;
  assert.equal(j('last.main'), '20261124-100001-e333.main');
  assert.equal(j('train.sample.3'), '20261124-090000-c111.sample.3');
  assert.equal(j('20261124-09.sample.10'), '20261124-090000-c111.sample.10');
  assert.equal(j('20261123-111800-a3f9.sidecar1'), '20261123-111800-a3f9.sidecar1', 'a full job id');
  assert.equal(j('exp.v2.main'), '20261123-111800-b000.main', 'a run name with a dot, then the job');
  const either = resolveRef(db, 'train.main');
  assert.equal(either.job?.id, '20261124-090000-c111.main');
  assert.equal(resolveRef(db, 'train').job, null);
});

test('a job reference that names nothing, or more than one, is a usage error', () => {
  const db = ledger();
  usage(() => resolveJobRef(db, 'train.sample.4'), /run 20261124-090000-c111 has no job 'sample.4'.*its jobs: main, sample.3, sample.10/);
  usage(() => resolveJobRef(db, 'sweep.main'), /'sweep' is ambiguous: 2 running runs/);
  usage(() => resolveJobRef(db, 'last'), /no job 'last'/);
  usage(() => resolveRunRef(db, 'last.main'), /names job 20261124-100001-e333.main, not a run/);
  // a run named like another run's job reference: both readings exist, so neither is taken
  addRun(db, '20261125-000000-f444', 'train.main');
  usage(() => resolveRef(db, 'train.main'), /ambiguous: it reads as more than one run or job: run 20261125-000000-f444 \(train.main\) succeeded, job 20261124-090000-c111.main/);
});
