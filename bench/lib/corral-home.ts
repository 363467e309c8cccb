import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger } from '../../src/ledger/db.ts';
import { removeCgroup } from '../../src/os/cgroup.ts';
import type { Identity } from '../../src/proc/identity.ts';
import { killIdentities } from './procs.ts';

type Ledger = ReturnType<typeof openLedger>;

/** Reads a benchmark run's own ledger (its CORRAL_HOME); null while corral is still creating it. */
export function readLedger<T>(home: string, fn: (db: Ledger) => T): T | null {
  if (!existsSync(join(home, 'ledger.sqlite'))) return null;
  try {
    const db = openLedger(join(home, 'ledger.sqlite'));
    try {
      return fn(db);
    } finally {
      db.close();
    }
  } catch {
    return null;
  }
}

/** True once corral's registry lists every one of these processes: the moment a SIGKILL is fair. */
export function registryListsAll(home: string, live: Identity[]): boolean {
  const rows = readLedger(home, (db) => db.prepare('SELECT pid, starttime FROM registry').all() as unknown as Identity[]);
  if (!rows) return false;
  const seen = new Set(rows.map((r) => `${r.pid}:${r.starttime}`));
  return live.every((p) => seen.has(`${p.pid}:${p.starttime}`));
}

/** After a measurement: kills the run's sentinel if it is still there and removes the run's cgroup. */
export function cleanUpCorralHome(home: string): void {
  const run = readLedger(home, (db) => db.prepare('SELECT sentinel_pid, sentinel_starttime, cgroup FROM runs').get() as { sentinel_pid: number | null; sentinel_starttime: number | null; cgroup: string | null } | undefined);
  if (run?.sentinel_pid && run.sentinel_starttime !== null) killIdentities([{ pid: run.sentinel_pid, starttime: run.sentinel_starttime }]);
  if (run?.cgroup && existsSync(run.cgroup)) removeCgroup(run.cgroup);
}
