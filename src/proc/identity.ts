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

/**
 * The one liveness rule every module uses: a zombie (Z) or a dying task (X) has exited and is not
 * alive, even while its pid waits for a parent to collect it.
 */
export function isLiveState(state: string | undefined): boolean {
  return state !== undefined && state !== 'Z' && state !== 'X';
}

/** True while the process that had this identity exists and has not exited (a zombie is not alive). */
export function isAlive(id: Identity): boolean {
  const st = readStat(id.pid);
  return st !== null && st.starttime === id.starttime && isLiveState(st.state);
}

/** True while the pid still names this identity, zombie or not: its pid is not free for reuse yet. */
export function pidHeld(id: Identity): boolean {
  const st = readStat(id.pid);
  return st !== null && st.starttime === id.starttime;
}

export function identityKey(id: Identity): string {
  return `${id.pid}:${id.starttime}`;
}
