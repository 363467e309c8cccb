import { readFileSync } from 'node:fs';
import { constants } from 'node:os';
import type { Db } from '../ledger/db.ts';

/** The shim bin/corral.js puts its shell's SigIgn mask here before it execs Node (see below). */
export const INHERITED_SIGIGN_VAR = 'CORRAL_INHERITED_SIGIGN';

/**
 * Whether SIGHUP was ignored when corral started (`nohup corral run ... &`, `trap '' HUP`). Node resets
 * every inherited SIG_IGN to SIG_DFL before any JavaScript runs, so /proc/self/status no longer shows
 * it; the shim's shell still has it and passes its SigIgn mask on. /proc/self/status stays the fallback
 * (a Node that keeps the disposition). Read once, at import, before any handler is installed, and the
 * variable is removed so that the job (and a corral the job runs) does not inherit a stale mask.
 */
function readSighupIgnored(): boolean {
  const fromShim = process.env[INHERITED_SIGIGN_VAR];
  delete process.env[INHERITED_SIGIGN_VAR];
  let mask = fromShim?.trim();
  if (!mask || !/^[0-9a-f]+$/i.test(mask)) {
    try {
      mask = /^SigIgn:\s*([0-9a-f]+)$/im.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    } catch {
      mask = undefined;
    }
  }
  if (!mask) return false;
  return (BigInt(`0x${mask}`) & (1n << BigInt(constants.signals.SIGHUP - 1))) !== 0n;
}

const sighupIgnored = readSighupIgnored();

export function sighupWasIgnored(): boolean {
  return sighupIgnored;
}

export type StopSignalName = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/**
 * First SIGINT/SIGTERM/SIGHUP: a graceful teardown. A second: SIGKILL everything at once. The exit
 * status is 128 + the first signal's number (130, 143, 129), as a shell reports it. A SIGHUP that was
 * ignored when corral started stays ignored (nohup): a listener that does nothing keeps Node's default
 * (exit) away, and it stays for the life of the process, through the final sweep.
 */
export function handleStopSignals(onFirst: (sig: StopSignalName) => void, onSecond: (sig: StopSignalName) => void): { received: () => StopSignalName | null; dispose: () => void } {
  let first: StopSignalName | null = null;
  const handler = (sig: StopSignalName) => {
    if (first === null) {
      first = sig;
      onFirst(sig);
    } else onSecond(sig);
  };
  const sigs: StopSignalName[] = sighupIgnored ? ['SIGINT', 'SIGTERM'] : ['SIGINT', 'SIGTERM', 'SIGHUP'];
  if (sighupIgnored && !process.listeners('SIGHUP').includes(ignore)) process.on('SIGHUP', ignore);
  for (const s of sigs) process.on(s, handler);
  return {
    received: () => first,
    dispose: () => {
      for (const s of sigs) process.off(s, handler);
    },
  };
}

function ignore(): void {}

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
