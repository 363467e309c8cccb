import type { ProcInfo } from '../proc/snapshot.ts';
import type { Stray } from '../strays/types.ts';
import { sudoCorral } from '../supervise/sudo-corral.ts';

/** Why a process that a selector matched is left alone. */
export type SkipWhy = 'init' | 'kernel-thread' | 'protected' | 'other-user' | 'allow-listed' | 'zombie' | 'not-found' | 'root-default';

export interface SafetyContext {
  currentUid: number;
  anyUser: boolean;
  /** corral itself, its ancestors, pid 0-2 */
  protect: Set<number>;
  /** allow-list matches of every process */
  allowListed: Map<number, string>;
}

export interface Refusal {
  why: SkipWhy;
  detail: string;
  /** the command that would take it, where one can */
  fix?: string;
}

export const isRoot = (uid: number) => uid === 0;

/**
 * The rules no selector overrides: never pid 1, kernel threads, corral itself or its ancestors; another
 * user's processes only for root with --any-user (a non-root user naming one explicitly gets EPERM,
 * reported with the sudo line; one found by a stray scan is skipped up front); allow-listed daemons only
 * when named by pid.
 */
export function refuse(p: ProcInfo, how: 'pid' | 'run' | 'job' | 'stray' | 'subtree', ctx: SafetyContext, user: string): Refusal | null {
  if (p.pid <= 1) return { why: 'init', detail: 'pid 1 (init) is never signalled' };
  if (p.kernelThread) return { why: 'kernel-thread', detail: 'a kernel thread; signals do not stop it' };
  if (ctx.protect.has(p.pid)) return { why: 'protected', detail: 'corral itself or one of its ancestors' };
  if (p.uid !== ctx.currentUid) {
    if (isRoot(ctx.currentUid) && !ctx.anyUser) {
      return { why: 'other-user', detail: `owned by ${user}; root takes other users' processes only with --any-user`, fix: `corral reap --any-user ${p.pid} --yes` };
    }
    if (!isRoot(ctx.currentUid) && (how === 'stray' || how === 'subtree')) {
      return { why: 'other-user', detail: `owned by ${user}; signalling it needs root`, fix: `${sudoCorral()} reap --any-user ${p.pid} --yes` };
    }
  }
  const allowed = ctx.allowListed.get(p.pid);
  if (allowed && how !== 'pid') return { why: 'allow-listed', detail: `allow-listed (${allowed}); name it by pid to reap it`, fix: `corral reap ${p.pid}` };
  return null;
}

/**
 * As root, `--strays` with no --reason takes only what corral can vouch for: strays attributed to a corral
 * run and GPU holders. A root-owned service whose parent is init is never taken merely for that.
 */
export function takenByRootDefault(s: Stray): boolean {
  return Boolean(s.attribution.runId) || s.reasons.some((r) => r.reason === 'gpu-holder' || r.reason === 'idle-gpu-holder');
}

/**
 * What `--strays` without --reason takes. An escaped-tmux stray is a candidate found by timeline evidence
 * only (a window you opened yourself in the run's directory matches too): it is taken only when named by
 * pid or asked for with --reason escaped-tmux. As root, the root default applies on top.
 */
export function takenByDefault(s: Stray, root: boolean, namedByPid: boolean): boolean {
  if (!namedByPid && s.reasons.every((r) => r.reason === 'escaped-tmux')) return false;
  return !root || takenByRootDefault(s);
}
