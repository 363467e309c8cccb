import type { Stray } from './types.ts';
import { sudoCorral } from '../supervise/sudo-corral.ts';

/** Shell commands a person can run to check a stray's facts without trusting corral. */
export function verifyCommands(s: Stray): string[] {
  const p = s.pid;
  const out = [
    `ps -o pid,ppid,pgid,sid,user,stat,lstart,etime,wchan:32,args -p ${p}`,
    `ls -l /proc/${p}/fd | grep -E 'nvidia|kfd|dri'`,
    `tr '\\0' '\\n' < /proc/${p}/environ | grep -E '^(CORRAL_|SUDO_)'`,
    `readlink /proc/${p}/exe; cat /proc/${p}/cgroup`,
  ];
  if (s.gpu.length) out.push(`nvidia-smi --query-compute-apps=pid,used_memory,gpu_uuid --format=csv | grep -w ${p}`);
  if (s.state === 'D') out.push(`cat /proc/${p}/wchan; echo; sudo cat /proc/${p}/stack`);
  if (s.state === 'Z') out.push(`ps -o pid,stat,args --ppid ${s.ppid}`);
  if (s.parent && s.parent.pid > 1) out.push(`ps -o pid,ppid,user,stat,args -p ${s.parent.pid}`);
  if (s.attribution.run) out.push(`corral history --json | grep -A3 ${s.attribution.run.id}`);
  return out;
}

/**
 * The exact reap command for a set of pids owned by `uids`. Another user's processes need root and
 * --any-user, so the line says so instead of leaving the person to find out from an EPERM.
 */
export function reapCommand(pids: number[], uids: number[], currentUid = process.getuid?.() ?? -1, extra = ''): string {
  const other = uids.some((u) => u !== currentUid);
  const prefix = other ? (currentUid === 0 ? 'corral reap --any-user' : `${sudoCorral()} reap --any-user`) : 'corral reap';
  return [prefix, ...pids, extra].filter((x) => x !== '').join(' ');
}

/** The command that removes one stray, or the zombie's parent; null for a zombie of init. */
export function reapTargetOf(s: Stray): { pids: number[]; uids: number[] } | null {
  if (s.state !== 'Z') return { pids: [s.pid], uids: [s.uid] };
  if (s.ppid <= 1 || !s.parent) return null;
  return { pids: [s.ppid], uids: [s.parent.uid] };
}
