import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { JobRunner, type JobContext } from '../../src/jobs/job-runner.ts';
import { openLedger, type Db } from '../../src/ledger/db.ts';
import { eventsOfRun } from '../../src/ledger/events.ts';
import { jobIdFor, newRunId } from '../../src/ledger/ids.ts';
import { attemptsOfRun, getJob } from '../../src/ledger/jobs.ts';
import { patientDb } from '../../src/ledger/patient-db.ts';
import { insertRun } from '../../src/ledger/runs.ts';
import { currentBootId, ticksNow } from '../../src/proc/clock.ts';
import { tempHome } from '../helpers/corral.ts';

/** The real ledger, with every commit counted: a statement outside a transaction, or a COMMIT. */
function countingLedger(): { raw: Db; db: Db; commits: () => number } {
  const raw = openLedger(join(tempHome(), 'ledger.sqlite'));
  let commits = 0;
  const counted = new Proxy(raw, {
    get(target, prop) {
      if (prop === 'exec') return (sql: string) => {
        if (/^\s*COMMIT/i.test(sql)) commits++;
        return target.exec(sql);
      };
      if (prop === 'prepare') return (sql: string) => {
        const stmt = target.prepare(sql);
        return new Proxy(stmt, {
          get(s, p) {
            if (p === 'run') return (...a: never[]) => {
              if (!target.isTransaction) commits++;
              return s.run(...a);
            };
            const v = Reflect.get(s, p, s) as unknown;
            return typeof v === 'function' ? v.bind(s) : v;
          },
        });
      };
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? v.bind(target) : v;
    },
  });
  return { raw, db: patientDb(counted, () => {}).db, commits: () => commits };
}

// A pool runs thousands of tasks: each SQLite commit is a WAL append on the supervisor's one thread. An
// attempt's start (its row and event) and its end (its row, its event, and its job's count or end) are
// each one moment, written in one transaction; what they record is unchanged.
test('a job is recorded in one commit, then two per attempt: its start, and its end with the job\'s count or end', async () => {
  const { raw, db, commits } = countingLedger();
  const runId = newRunId();
  insertRun(raw, {
    id: runId, kind: 'pool', name: null, argv: '[]', cwd: process.cwd(), uid: 0, user: 'test', host: 'test', supervisor_pid: process.pid,
    supervisor_starttime: null, config: '{}', started_at: Date.now(), boot_id: currentBootId(), start_ticks: ticksNow() - 2,
  });
  const ctx: JobContext = { db, runId, runCgroup: null, runStartTicks: ticksNow() - 2, exclude: [], registry: () => [], unkillableMs: 1000, abort: new AbortController().signal };
  const id = jobIdFor(runId, 'task-1');
  const runner = new JobRunner(ctx, id, { name: 'task-1', role: 'task', argv: ['sh', '-c', 'exit 3'], stdio: 'ignore', graceMs: 500, stopSignal: 'SIGTERM', restart: { mode: 'on-failure', maxRestarts: 1, delayMs: 0 } });
  try {
    const before = commits();
    const out = await runner.run();
    assert.equal(out.attempts, 2);
    // job insert, then per attempt: start, end (the first with the job's attempt count, the last with its end)
    assert.equal(commits() - before, 1 + 2 * 2);
    const job = getJob(raw, id)!;
    assert.equal(job.state, 'failed');
    assert.equal(job.attempts, 2);
    assert.equal(job.exit_code, 3);
    assert.deepEqual(attemptsOfRun(raw, runId).map((a) => [a.n, a.exit_code, a.stop_reason]), [[1, 3, 'exited'], [2, 3, 'exited']]);
    assert.deepEqual(eventsOfRun(raw, runId).map((e) => e.kind), ['attempt-start', 'attempt-end', 'attempt-start', 'attempt-end']);
  } finally {
    raw.close();
  }
});
