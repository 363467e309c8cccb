import { hostname } from 'node:os';
import { formatDuration } from '../config/duration.ts';
import { openLedgerToRead, type Db } from '../ledger/db.ts';
import { listRuns } from '../ledger/runs.ts';
import { runState } from '../ledger/run-state.ts';
import { currentBootId, uptimeMs } from '../proc/clock.ts';
import type { EnvCache } from '../proc/env-cache.ts';
import { identityKey } from '../proc/identity.ts';
import type { AllowList } from '../strays/allow-list.ts';
import { userResolver } from '../strays/facts.ts';
import { ledgerViewOf } from '../strays/ledger-view.ts';
import { scanStrays, type StrayScan } from '../strays/scan.ts';
import type { Stray } from '../strays/types.ts';
import { coverage, coversUser, decide, inQuietHours, type Decision } from './decide.ts';
import { buildNotice } from './message.ts';
import { NO_CHANNEL, sendNotice } from './channels.ts';
import type { Policy } from './policy.ts';
import { probeGpusWithDeadline } from './gpu-deadline.ts';
import { reapStrays } from './reap-strays.ts';
import { bumpCounter, setMeta } from './state.ts';
import { recordAction, settleState, trackStrays, updateTracked, type TrackedStray } from './tracked.ts';

/** Notices sent in one pass at most; the rest stay due for the next. */
export const MAX_NOTICES_PER_PASS = 50;

export interface GuardContext {
  state: Db;
  policy: Policy;
  allow: AllowList;
  /** grace between the stop signal and SIGKILL when reaping */
  graceMs: number;
  /** act (false: `guard check`, which only says what it would do) */
  act: boolean;
  /** environment facts kept from pass to pass (see proc/env-cache.ts) */
  envCache?: EnvCache;
}

export interface Judged {
  stray: Stray;
  row: TrackedStray;
  decision: Decision;
}

export interface PassResult {
  scan: StrayScan;
  judged: Judged[];
  notified: number;
  reaped: number;
  /** live corral runs per user, from the guard's ledger */
  activeRuns: Map<string, number>;
}

function activeRuns(db: Db): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of listRuns(db, { status: 'running', limit: 10_000 })) {
    const s = runState(r);
    if (!s.supervisorAlive && !s.sentinelAlive) continue;
    const user = r.user ?? String(r.uid);
    out.set(user, (out.get(user) ?? 0) + 1);
  }
  return out;
}

/**
 * The uids whose strays the policy can cover or exclude: by user, and root by default (its strays of
 * corral runs). Only these are judged; the others' strays would be 'outside' whatever the rules found.
 */
function mayCover(policy: Policy): (uid: number) => boolean {
  const userOf = userResolver();
  return (uid) => coversUser(uid, userOf(uid), policy) !== 'outside' || (uid === 0 && !policy.users);
}

/** One pass: scan with strays' rules, remember every covered stray, then notify and reap as the policy says. */
export async function guardPass(ctx: GuardContext): Promise<PassResult> {
  const ledgerDb = openLedgerToRead();
  try {
    const gpu = await probeGpusWithDeadline();
    const scan = await scanStrays({ ledger: ledgerViewOf(ledgerDb), allowList: ctx.allow, gpu, envCache: ctx.envCache, judgeUid: mayCover(ctx.policy) });
    const bootId = currentBootId();
    const up = uptimeMs();
    const covered = scan.strays.filter((s) => coverage(s, ctx.policy) !== 'outside');
    ctx.state.exec('BEGIN IMMEDIATE');
    const judged: Judged[] = [];
    try {
      const rows = trackStrays(ctx.state, covered, bootId, up, Date.now());
      for (const s of covered) {
        const row = rows.get(identityKey(s))!;
        const decision = coverage(s, ctx.policy) === 'excluded' ? { notify: false, reap: false, reason: '', skip: `user ${s.user} is in exclude_users` } : decide(s, row, ctx.policy, up);
        judged.push({ stray: s, row, decision });
        if (ctx.act && decision.skip && row.skip_note !== decision.skip) {
          recordAction(ctx.state, { pid: s.pid, starttime: s.starttime, user: s.user, reason: decision.reason || s.reasons.map((r) => r.reason).join(','), action: 'skip', outcome: decision.skip, command: s.command });
          updateTracked(ctx.state, row, { skip_note: decision.skip });
        }
      }
      settleState(ctx.state, new Set(scan.strays.map(identityKey)), bootId, up);
      bumpCounter(ctx.state, 'scans');
      setMeta(ctx.state, { lastScanAt: scan.scannedAt, lastScanMs: Math.round(scan.scanMs), processes: scan.processCount, pid: process.pid, policy: ctx.policy.source });
      ctx.state.exec('COMMIT');
    } catch (e) {
      ctx.state.exec('ROLLBACK');
      throw e;
    }
    if (!ctx.act) return { scan, judged, notified: 0, reaped: 0, activeRuns: activeRuns(ledgerDb) };
    const notified = await notifyDue(ctx, judged, scan.host || hostname());
    const reaped = await reapDue(ctx, judged, scan, ledgerDb);
    return { scan, judged, notified, reaped, activeRuns: activeRuns(ledgerDb) };
  } finally {
    ledgerDb.close();
  }
}

function planText(d: Decision): string {
  if (d.reapInMs === undefined) return '';
  return d.reapInMs === 0 || d.reap ? 'corral guard reaps it now, by policy' : `corral guard reaps it in ${formatDuration(d.reapInMs)}, by policy`;
}

async function notifyDue(ctx: GuardContext, judged: Judged[], host: string): Promise<number> {
  // a burst (a node's worth of strays at once) goes out over several passes, never as one flood
  const due = judged.filter((j) => j.decision.notify).slice(0, MAX_NOTICES_PER_PASS);
  if (!due.length || inQuietHours(ctx.policy)) return 0; // they stay due, and go out when the quiet hours end
  const results = await Promise.all(due.map((j) => sendNotice(ctx.policy.notify, j.stray.uid, buildNotice(j.stray, host, planText(j.decision)))));
  const up = Math.round(uptimeMs());
  due.forEach((j, i) => {
    const s = j.stray;
    recordAction(ctx.state, { pid: s.pid, starttime: s.starttime, user: s.user, reason: j.decision.reason, action: 'notify', outcome: results[i]!, command: s.command, gpuBeforeMiB: s.gpuBytes ? Math.round(s.gpuBytes / 1048576) : undefined });
    updateTracked(ctx.state, j.row, { notified_up: up, notify_count: j.row.notify_count + 1 });
    if (results[i] !== NO_CHANNEL) bumpCounter(ctx.state, 'notifications');
  });
  return due.length;
}

async function reapDue(ctx: GuardContext, judged: Judged[], scan: StrayScan, ledgerDb: Db): Promise<number> {
  const due = judged.filter((j) => j.decision.reap);
  if (!due.length) return 0;
  const covered = (uid: number) => coversUser(uid, scan.userOf(uid), ctx.policy) === 'covered' || due.some((j) => j.stray.uid === uid);
  const outcomes = await reapStrays(due.map((j) => j.stray), scan, ledgerDb, covered, ctx.graceMs);
  const up = Math.round(uptimeMs());
  let reaped = 0;
  for (const o of outcomes) {
    const j = due.find((d) => d.stray === o.stray)!;
    recordAction(ctx.state, { pid: o.stray.pid, starttime: o.stray.starttime, user: o.stray.user, reason: j.decision.reason, action: 'reap', outcome: o.outcome, gpuBeforeMiB: o.gpuBeforeMiB, gpuAfterMiB: o.gpuAfterMiB, command: o.stray.command });
    updateTracked(ctx.state, j.row, { reaped_up: up });
    if (o.killed) {
      reaped++;
      bumpCounter(ctx.state, 'reaps');
    }
  }
  return reaped;
}
