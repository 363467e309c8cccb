import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type { GpuView } from '../../src/gpu/types.ts';
import { openLedger, type Db } from '../../src/ledger/db.ts';
import { readStat } from '../../src/proc/stat.ts';
import { defaultAllowList, type AllowList } from '../../src/strays/allow-list.ts';
import { ledgerViewOf } from '../../src/strays/ledger-view.ts';
import { scanStrays, type StrayScan } from '../../src/strays/scan.ts';
import { buildPlan, type ReapSelectors } from '../../src/reap/plan.ts';
import { tempHome } from '../helpers/corral.ts';
import { waitFor, type Tracker } from '../helpers/procs.ts';

export const NO_GPU: GpuView = { devices: [], processes: [], probes: [] };

export function tempLedger(): Db {
  return openLedger(join(tempHome(), 'ledger.sqlite'));
}

/** A child of the test running `sh -c SCRIPT TOKEN`, tracked; its environment carries the token too. */
export function spawnShell(t: Tracker, token: string, script: string, opts: { uid?: number; gid?: number } = {}): ChildProcess {
  const child = spawn('/bin/sh', ['-c', script, token], { stdio: 'ignore', env: { ...process.env, CORRAL_TEST_TOKEN: token }, ...opts });
  t.pid(child.pid);
  return child;
}

export async function childrenOf(t: Tracker, pid: number, count: number): Promise<number[]> {
  const { listPids } = await import('../../src/proc/snapshot.ts');
  const kids = await waitFor(() => {
    const found = listPids().filter((p) => readStat(p)?.ppid === pid);
    return found.length >= count ? found : undefined;
  }, `${count} children of ${pid}`);
  for (const k of kids) t.pid(k);
  return kids;
}

export async function scan(db: Db, opts: { gpu?: GpuView; allowList?: AllowList } = {}): Promise<StrayScan> {
  return scanStrays({ ledger: ledgerViewOf(db), gpu: opts.gpu ?? NO_GPU, allowList: opts.allowList ?? defaultAllowList() });
}

export function selectors(over: Partial<ReapSelectors>): ReapSelectors {
  return { pids: [], strays: false, filters: {}, anyUser: false, ...over };
}

export async function planFor(db: Db, sel: Partial<ReapSelectors>, opts: { gpu?: GpuView; allowList?: AllowList; uid?: number } = {}) {
  return buildPlan(selectors(sel), await scan(db, opts), db, opts.uid ?? process.getuid?.() ?? -1);
}
