import { readStat } from './stat.ts';

/** A process identity: a pid alone can be reused, (pid, starttime) cannot. */
export interface Identity {
  pid: number;
  starttime: number;
}

export function readIdentity(pid: number): Identity | null {
  const st = readStat(pid);
  return st ? { pid, starttime: st.starttime } : null;
}

/** True while the process that had this identity still exists (a zombie still exists). */
export function isAlive(id: Identity): boolean {
  const st = readStat(id.pid);
  return st !== null && st.starttime === id.starttime;
}

/** True while it exists and is not a zombie. */
export function isRunning(id: Identity): boolean {
  const st = readStat(id.pid);
  return st !== null && st.starttime === id.starttime && st.state !== 'Z' && st.state !== 'X';
}

export function identityKey(id: Identity): string {
  return `${id.pid}:${id.starttime}`;
}
