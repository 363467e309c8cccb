import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { openLedger } from '../../src/ledger/db.ts';
import { findCgroup2Mount } from '../../src/os/cgroup.ts';
import { parseCgroupV2 } from '../../src/proc/snapshot.ts';
import { IN_CI, skipOrFail } from '../helpers/skip.ts';

/** The two containment modes every end-to-end case runs in. */
export const MODES = [
  // CORRAL_CGROUP has one value the code reads, 'off'; the cgroup mode unsets it (it may be in the test's env).
  { name: 'cgroup2', cgroup: true, env: { CORRAL_CGROUP: undefined } as NodeJS.ProcessEnv },
  { name: 'CORRAL_CGROUP=off', cgroup: false, env: { CORRAL_CGROUP: 'off' } as NodeJS.ProcessEnv },
];

/** True where this (root) process can create a cgroup below its own: what setUpRunCgroup needs. */
export function canUseCgroups(): boolean {
  if (process.getuid?.() !== 0) return false;
  const mount = findCgroup2Mount();
  if (!mount) return false;
  let own: string | undefined;
  try {
    own = parseCgroupV2(readFileSync('/proc/self/cgroup', 'utf8'));
  } catch {
    return false;
  }
  return own !== undefined && existsSync(join(mount, own, 'cgroup.procs'));
}

/** Skips a cgroup case where cgroups cannot be used here; under CI=true that fails instead. */
export function needCgroups(ctx: TestContext, cgroup: boolean): boolean {
  if (!cgroup || canUseCgroups()) return true;
  skipOrFail(ctx, 'no writable cgroup2 hierarchy here (needs root)');
  return IN_CI;
}

export interface RecordedRun {
  id: string;
  name: string | null;
  status: string;
  stop_reason: string | null;
  containment: string | null;
  cgroup: string | null;
  cwd: string | null;
}

/** The runs of a ledger, oldest first, with their jobs' cgroups. */
export function recordedRuns(home: string): (RecordedRun & { jobs: { id: string; cgroup: string | null }[] })[] {
  const db = openLedger(join(home, 'ledger.sqlite'));
  try {
    const runs = db.prepare('SELECT id, name, status, stop_reason, containment, cgroup, cwd FROM runs ORDER BY start_ticks, id').all() as unknown as RecordedRun[];
    return runs.map((r) => ({ ...r, jobs: db.prepare('SELECT id, cgroup FROM jobs WHERE run_id = ?').all(r.id) as { id: string; cgroup: string | null }[] }));
  } finally {
    db.close();
  }
}

/** The run ran in the mode it is named for: the ledger recorded cgroup2 (and a cgroup per job), or the fallback. */
export function assertContainment(run: Pick<RecordedRun, 'containment' | 'cgroup'>, jobs: { id: string; cgroup: string | null }[], cgroup: boolean): void {
  assert.ok(jobs.length > 0, 'the run recorded its jobs');
  if (cgroup) {
    assert.match(run.containment ?? '', /^cgroup2 \(/, `run containment is cgroup2 (recorded: ${run.containment})`);
    assert.ok(run.cgroup, 'the run recorded its cgroup');
    for (const j of jobs) assert.ok(j.cgroup?.startsWith(`${run.cgroup}/`), `job ${j.id} ran in a cgroup below the run's (recorded: ${j.cgroup})`);
  } else {
    assert.match(run.containment ?? '', /^no cgroup: CORRAL_CGROUP=off/, `run containment is the fallback (recorded: ${run.containment})`);
    assert.equal(run.cgroup, null);
    for (const j of jobs) assert.equal(j.cgroup, null, `job ${j.id} has no cgroup`);
  }
}
