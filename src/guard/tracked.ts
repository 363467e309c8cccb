import type { Db } from '../ledger/db.ts';
import type { GuardAction } from './actions-view.ts';
import { identityKey } from '../proc/identity.ts';
import type { Stray } from '../strays/types.ts';

/** What the guard remembers of one stray identity across scans and restarts. Times: ms since boot. */
export interface TrackedStray {
  pid: number;
  starttime: number;
  boot_id: string;
  uid: number;
  user: string;
  command: string;
  reasons: string;
  severity: string;
  gpu_bytes: number;
  run_id: string | null;
  first_up: number;
  last_up: number;
  first_at: number;
  last_at: number;
  gone_up: number | null;
  notified_up: number | null;
  notify_count: number;
  reaped_up: number | null;
  skip_note: string | null;
}

/** Strays gone this long are forgotten, so the state stays bounded on a machine that runs for months. */
export const FORGET_GONE_MS = 3_600_000;
/** The action log keeps this many rows (newest). */
export const MAX_ACTIONS = 10_000;

/** Records that each stray was seen now (first seen stays); returns every stray's row by identity key. */
export function trackStrays(db: Db, strays: Stray[], bootId: string, upMs: number, nowMs: number): Map<string, TrackedStray> {
  const up = Math.round(upMs);
  const put = db.prepare(`INSERT INTO guard_strays (pid, starttime, boot_id, uid, user, command, reasons, severity, gpu_bytes, run_id, first_up, last_up, first_at, last_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (pid, starttime, boot_id) DO UPDATE SET last_up = excluded.last_up, last_at = excluded.last_at, reasons = excluded.reasons,
      severity = excluded.severity, gpu_bytes = excluded.gpu_bytes, gone_up = NULL RETURNING *`);
  const out = new Map<string, TrackedStray>();
  for (const s of strays) {
    const reasons = s.reasons.map((r) => r.reason).join(',');
    const row = put.get(s.pid, s.starttime, bootId, s.uid, s.user, s.command.slice(0, 1000), reasons, s.severity, s.gpuBytes, s.attribution.runId ?? null, up, up, nowMs, nowMs) as unknown as TrackedStray;
    out.set(identityKey(s), row);
  }
  return out;
}

/** Marks as gone every tracked stray not in this scan, forgets the long gone and other boots', caps the log. */
export function settleState(db: Db, seen: Set<string>, bootId: string, upMs: number): void {
  const up = Math.round(upMs);
  const live = db.prepare('SELECT pid, starttime FROM guard_strays WHERE gone_up IS NULL AND boot_id = ?').all(bootId) as { pid: number; starttime: number }[];
  const gone = db.prepare('UPDATE guard_strays SET gone_up = ? WHERE pid = ? AND starttime = ? AND boot_id = ?');
  for (const r of live) if (!seen.has(identityKey(r))) gone.run(up, r.pid, r.starttime, bootId);
  db.prepare('DELETE FROM guard_strays WHERE boot_id != ? OR gone_up < ?').run(bootId, up - FORGET_GONE_MS);
  db.prepare('DELETE FROM guard_actions WHERE id <= (SELECT MAX(id) FROM guard_actions) - ?').run(MAX_ACTIONS);
}

export function updateTracked(db: Db, row: TrackedStray, set: Partial<Pick<TrackedStray, 'notified_up' | 'notify_count' | 'reaped_up' | 'skip_note'>>): void {
  Object.assign(row, set);
  db.prepare('UPDATE guard_strays SET notified_up = ?, notify_count = ?, reaped_up = ?, skip_note = ? WHERE pid = ? AND starttime = ? AND boot_id = ?')
    .run(row.notified_up, row.notify_count, row.reaped_up, row.skip_note, row.pid, row.starttime, row.boot_id);
}

/** What recordAction stores: a GuardAction (the dashboard's shape) without its time, which is stamped here. */
export type ActionRecord = Omit<GuardAction, 'at'>;

export function recordAction(db: Db, a: ActionRecord, nowMs = Date.now()): void {
  db.prepare('INSERT INTO guard_actions (at, pid, starttime, user, reason, action, outcome, gpu_before_mib, gpu_after_mib, command) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    .run(nowMs, a.pid, a.starttime, a.user, a.reason, a.action, a.outcome.slice(0, 2000), a.gpuBeforeMiB ?? null, a.gpuAfterMiB ?? null, a.command?.slice(0, 1000) ?? null);
}

export function liveTracked(db: Db, bootId: string): TrackedStray[] {
  return db.prepare('SELECT * FROM guard_strays WHERE gone_up IS NULL AND boot_id = ? ORDER BY first_up').all(bootId) as unknown as TrackedStray[];
}
