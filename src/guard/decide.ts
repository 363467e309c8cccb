import { formatDuration } from '../config/duration.ts';
import type { Stray } from '../strays/types.ts';
import type { Policy, PolicyRule } from './policy.ts';
import type { TrackedStray } from './tracked.ts';

/** Human users start here (login.defs UID_MIN); below are system accounts the guard leaves alone by default. */
export const FIRST_HUMAN_UID = 1000;
const NOBODY_UID = 65534;

/** Whose processes the policy covers, by user alone; 'excluded' only for users named in exclude_users. */
export function coversUser(uid: number, user: string, p: Policy): 'covered' | 'excluded' | 'outside' {
  const named = (list: string[]) => list.includes(user) || list.includes(String(uid));
  if (named(p.excludeUsers)) return 'excluded';
  if (p.users) return named(p.users) ? 'covered' : 'outside';
  return uid >= FIRST_HUMAN_UID && uid !== NOBODY_UID ? 'covered' : 'outside';
}

/** A stray's coverage: by its user, and by default also root's strays of corral runs. */
export function coverage(s: Stray, p: Policy): 'covered' | 'excluded' | 'outside' {
  const c = coversUser(s.uid, s.user, p);
  return c === 'outside' && !p.users && s.uid === 0 && s.attribution.runId ? 'covered' : c;
}

/** A system service (by its cgroup), never the guard's to touch: system.slice, init.scope, machine.slice. */
export function systemCgroup(s: Stray): string | undefined {
  if (!s.cgroup) return undefined;
  return /(^|\/)(system\.slice|init\.scope|machine\.slice)(\/|$)/.test(s.cgroup) ? s.cgroup : undefined;
}

export function ruleMatches(r: PolicyRule, s: Stray): boolean {
  if (r.reasons && !s.reasons.some((h) => r.reasons!.includes(h.reason))) return false;
  if (r.severities && !r.severities.includes(s.severity)) return false;
  return true;
}

export interface Decision {
  notify: boolean;
  reap: boolean;
  /** why a due action is not taken (recorded once per identity) */
  skip?: string;
  /** the stray's reasons, for the record */
  reason: string;
  /** how long until the policy reaps it (0: now); undefined when no matching rule reaps */
  reapInMs?: number;
}

/** Shortest delay among the matching rules that give one. */
function soonest(rules: PolicyRule[], pick: (r: PolicyRule) => number | undefined): number | undefined {
  const ms = rules.map(pick).filter((x): x is number => x !== undefined);
  return ms.length ? Math.min(...ms) : undefined;
}

/**
 * What the policy says to do about one covered stray now. Delays run from when the guard first saw it
 * (boot-relative, across restarts); min_age is the process's own age. Nothing is repeated within notify.repeat.
 */
export function decide(s: Stray, row: TrackedStray, p: Policy, upMs: number): Decision {
  const rules = p.rules.filter((r) => ruleMatches(r, s));
  const reason = s.reasons.map((r) => r.reason).join(',');
  const seenFor = upMs - row.first_up;
  const notifyAfter = soonest(rules, (r) => r.notifyMs);
  const reapAfter = soonest(rules, (r) => r.reapMs);
  const out: Decision = {
    notify: notifyAfter !== undefined && seenFor >= notifyAfter && (row.notified_up === null || upMs - row.notified_up >= p.notify.repeatMs),
    reap: reapAfter !== undefined && seenFor >= reapAfter && (row.reaped_up === null || upMs - row.reaped_up >= p.notify.repeatMs),
    reason,
    reapInMs: reapAfter === undefined ? undefined : Math.max(0, reapAfter - seenFor),
  };
  if (!out.notify && !out.reap) return out;
  const system = systemCgroup(s);
  if (s.pid <= 1) out.skip = 'pid 1 is never acted on';
  else if (s.runtimeMs < p.minAgeMs) out.skip = `younger than min_age ${formatDuration(p.minAgeMs)}`; // stable text: a skip is recorded once per identity
  else if (out.reap && system) out.skip = `a system service (cgroup ${system})`;
  else if (out.reap && s.allowListed) out.skip = `allow-listed (${s.allowListed})`;
  if (out.skip) out.notify = out.reap = false;
  return out;
}

/** True inside the policy's quiet hours (local time): notifications wait, reaps do not. */
export function inQuietHours(p: Policy, now = new Date()): boolean {
  if (!p.quietHours) return false;
  const m = now.getHours() * 60 + now.getMinutes();
  const { start, end } = p.quietHours;
  return start <= end ? m >= start && m < end : m >= start || m < end;
}
