import { formatDuration } from '../config/duration.ts';
import { currentBootId, uptimeMs } from '../proc/clock.ts';
import { recentGuardActions, type GuardAction } from './actions-view.ts';
import { loadGuardPolicy } from './loop.ts';
import { guardPass } from './pass.ts';
import { openGuardStateToRead, openScratchState, readCounters, readMeta } from './state.ts';
import { liveTracked } from './tracked.ts';

// The two looks at the guard that change nothing: `guard check` (the policy against the live machine)
// and `guard status` (what the running guard has recorded).

export interface CheckRow {
  pid: number;
  user: string;
  reasons: string;
  severity: string;
  would: string;
  command: string;
}

/** A pass against a scratch copy of the guard's state: what the policy would do now, with nothing sent, signalled or written. */
export async function checkPolicy(flag?: string): Promise<{ policy: string; strays: CheckRow[] }> {
  const loaded = loadGuardPolicy(flag);
  const state = openScratchState();
  try {
    const res = await guardPass({ ...loaded, state, graceMs: 0, act: false });
    const strays = res.judged.map(({ stray: s, decision: d }) => ({
      pid: s.pid, user: s.user, reasons: s.reasons.map((r) => r.reason).join(','), severity: s.severity, command: s.command,
      would: d.skip ? `skip: ${d.skip}` : [d.notify && 'notify', d.reap ? 'reap' : d.reapInMs !== undefined && `reap in ${formatDuration(d.reapInMs)}`].filter(Boolean).join(', ') || 'nothing yet',
    }));
    return { policy: loaded.policy.source, strays };
  } finally {
    state.close();
  }
}

export interface GuardStatus {
  lastScanAt: string | null;
  lastScanMs: number | null;
  processes: number | null;
  pid: number | null;
  policy: string | null;
  counters: Record<string, number>;
  strays: { pid: number; starttime: number; user: string; reasons: string; severity: string; gpuBytes: number; runId: string | null; firstSeen: string; seenForMs: number; notifyCount: number; reaped: boolean; command: string }[];
  actions: GuardAction[];
}

/** What the guard's state says, read-only: the strays it tracks now, its counters, its latest actions. */
export function guardStatus(limit: number): GuardStatus {
  const db = openGuardStateToRead();
  const empty: GuardStatus = { lastScanAt: null, lastScanMs: null, processes: null, pid: null, policy: null, counters: {}, strays: [], actions: [] };
  if (!db) return empty;
  try {
    const meta = readMeta(db);
    const up = uptimeMs();
    const strays = liveTracked(db, currentBootId()).map((r) => ({
      pid: r.pid, starttime: r.starttime, user: r.user, reasons: r.reasons, severity: r.severity, gpuBytes: r.gpu_bytes, runId: r.run_id,
      firstSeen: new Date(r.first_at).toISOString(), seenForMs: Math.max(0, up - r.first_up), notifyCount: r.notify_count, reaped: r.reaped_up !== null, command: r.command,
    }));
    return {
      lastScanAt: meta.lastScanAt ? new Date(Number(meta.lastScanAt)).toISOString() : null, lastScanMs: meta.lastScanMs ? Number(meta.lastScanMs) : null,
      processes: meta.processes ? Number(meta.processes) : null, pid: meta.pid ? Number(meta.pid) : null, policy: meta.policy ?? null,
      counters: Object.fromEntries(readCounters(db)), strays, actions: recentGuardActions(limit),
    };
  } finally {
    db.close();
  }
}
