import { constants } from 'node:os';
import type { Db } from '../ledger/db.ts';

export type StopSignalName = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/**
 * First SIGINT/SIGTERM/SIGHUP: a graceful teardown. A second: SIGKILL everything at once. The exit
 * status is 128 + the first signal's number (130, 143, 129), as a shell reports it.
 */
export function handleStopSignals(onFirst: (sig: StopSignalName) => void, onSecond: (sig: StopSignalName) => void): { received: () => StopSignalName | null; dispose: () => void } {
  let first: StopSignalName | null = null;
  const handler = (sig: StopSignalName) => {
    if (first === null) {
      first = sig;
      onFirst(sig);
    } else onSecond(sig);
  };
  const sigs: StopSignalName[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of sigs) process.on(s, handler);
  return {
    received: () => first,
    dispose: () => {
      for (const s of sigs) process.off(s, handler);
    },
  };
}

export function exitCodeForSignal(sig: string): number {
  return 128 + (constants.signals[sig as NodeJS.Signals] ?? 0);
}

/**
 * The ledger event `corral stop` writes before it sends SIGTERM to a run's supervisor. The supervisor's
 * handler looks for it, so that the run is recorded as 'stopped' (stop reason 'stopped', exit status 143
 * as for any SIGTERM) and not as 'interrupted'.
 */
export const STOP_REQUESTED = 'stop-requested';

export function stopWasRequested(db: Db, runId: string): boolean {
  try {
    return db.prepare('SELECT 1 FROM events WHERE run_id = ? AND kind = ? LIMIT 1').get(runId, STOP_REQUESTED) !== undefined;
  } catch {
    return false; // a ledger that cannot be read: the signal still stops the run, recorded as interrupted
  }
}
