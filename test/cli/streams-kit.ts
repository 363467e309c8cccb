import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DatabaseSync } from 'node:sqlite';
import { BIN } from '../helpers/corral.ts';

/** The real corral binary with stdio as the test arranges it (a pipe the test closes, /dev/null, ...). */
export function spawnCorral(args: string[], home: string, stdio: StdioOptions, env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, [BIN, ...args], { env: { ...process.env, NO_COLOR: '1', CORRAL_HOME: home, ...env }, stdio });
}

export function exitOf(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve({ code: child.exitCode, signal: child.signalCode });
    else child.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

/** Peak resident memory of a process so far (VmHWM), in MiB; null once it is gone. */
export function peakRssMiB(pid: number): number | null {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** Samples VmHWM until the process exits; the last reading is its peak over its whole life (but the exit). */
export function watchPeak(pid: number): { stop: () => number } {
  let peak = 0;
  const timer = setInterval(() => {
    const v = peakRssMiB(pid);
    if (v !== null) peak = Math.max(peak, v);
  }, 20);
  return { stop: () => (clearInterval(timer), peak) };
}

export interface LedgerView {
  runs: { id: string; status: string; exit_code: number | null; stop_reason: string | null }[];
  events: { kind: string; data: Record<string, unknown> }[];
}

/** The ledger as the test reads it, read-only: runs and events. */
export function readLedger(home: string): LedgerView {
  const db = new DatabaseSync(join(home, 'ledger.sqlite'), { readOnly: true, timeout: 5000 });
  try {
    const runs = db.prepare('SELECT id, status, exit_code, stop_reason FROM runs ORDER BY id').all() as unknown as LedgerView['runs'];
    const events = (db.prepare('SELECT kind, data FROM events ORDER BY id').all() as { kind: string; data: string | null }[]).map((e) => ({ kind: e.kind, data: e.data ? JSON.parse(e.data) : {} }));
    return { runs, events };
  } finally {
    db.close();
  }
}
