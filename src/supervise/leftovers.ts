import { userInfo } from 'node:os';
import { readFileSync } from 'node:fs';
import { readCmdline, type Snapshot } from '../proc/snapshot.ts';
import { readWchan } from '../proc/stat.ts';
import type { Member } from './scope.ts';
import { sudoCorral } from './sudo-corral.ts';

/** A member that outlived the teardown, with what a person needs to deal with it. */
export interface Leftover {
  pid: number;
  starttime: number;
  jobId: string;
  state: string;
  wchan: string;
  uid: number;
  user: string;
  command: string;
  why: 'eperm' | 'unkillable';
  /** what to run to remove it */
  fix: string;
}

export function userName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    /* no passwd file */
  }
  return uid === process.getuid?.() ? userInfo().username : String(uid);
}

export function describeLeftover(m: Member, snap: Snapshot, eperm: boolean): Leftover {
  const p = snap.get(m.pid);
  const uid = p?.uid ?? -1;
  const user = userName(uid);
  const argv = readCmdline(m.pid);
  const state = p?.state ?? '?';
  const fix = eperm
    ? `${sudoCorral()} reap --job ${m.jobId} --yes   # owned by ${user}; or: sudo -u ${user} kill -KILL ${m.pid}`
    : state === 'D'
      ? `process ${m.pid} is in uninterruptible sleep (D, wchan ${readWchan(m.pid)}); it dies when the kernel call returns (often a hung NFS or GPU driver call)`
      : `corral reap --job ${m.jobId} --yes`;
  return {
    pid: m.pid,
    starttime: m.starttime,
    jobId: m.jobId,
    state,
    wchan: readWchan(m.pid),
    uid,
    user,
    command: argv.join(' ') || (p ? `[${p.comm}]` : '?'),
    why: eperm ? 'eperm' : 'unkillable',
    fix,
  };
}
