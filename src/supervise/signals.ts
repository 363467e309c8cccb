import { constants } from 'node:os';

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
