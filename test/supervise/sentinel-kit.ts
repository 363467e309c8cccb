import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { openLedger } from '../../src/ledger/db.ts';
import type { RunRow } from '../../src/ledger/runs.ts';
import { findByToken } from '../helpers/procs.ts';

/** The one run of a test's home, read through a fresh connection (undefined until corral wrote it). */
export function readRun(home: string): RunRow | undefined {
  const path = join(home, 'ledger.sqlite');
  if (!existsSync(path)) return undefined;
  const db = openLedger(path);
  try {
    return db.prepare('SELECT * FROM runs ORDER BY rowid DESC LIMIT 1').get() as RunRow | undefined;
  } finally {
    db.close();
  }
}

/** Identities in the run's registry (what the poller has written so far). */
export function readRegistry(home: string): { pid: number; starttime: number }[] {
  const db = openLedger(join(home, 'ledger.sqlite'));
  try {
    return db.prepare('SELECT pid, starttime FROM registry').all() as { pid: number; starttime: number }[];
  } finally {
    db.close();
  }
}

export function sentinelLog(home: string, runId: string): string {
  const path = join(home, 'logs', `${runId}.sentinel.log`);
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}

/** The workload's live processes: they carry the token, and are neither corral nor its sentinel. */
export function workload(token: string, corralPid: number | undefined): ReturnType<typeof findByToken> {
  return findByToken(token).filter((p) => p.state !== 'Z' && p.pid !== corralPid && !p.cmd.includes('__sentinel') && !p.cmd.includes('read -r line'));
}

/** The sentinel process (the waiting shell, or the teardown it execs), found by the test's token. */
export function sentinels(token: string): ReturnType<typeof findByToken> {
  return findByToken(token).filter((p) => p.state !== 'Z' && (p.cmd.includes('__sentinel') || p.cmd.includes('read -r line')));
}
