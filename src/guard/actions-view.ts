import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { guardStatePath } from './state-path.ts';

/** One thing the guard did (or decided not to do) about one stray: the dashboard's contract. Keep it stable. */
export interface GuardAction {
  at: string /* ISO, display only */;
  pid: number;
  starttime: number;
  user: string;
  reason: string;
  action: 'notify' | 'reap' | 'skip';
  outcome: string;
  gpuBeforeMiB?: number;
  gpuAfterMiB?: number;
  command?: string;
}

interface ActionRow {
  at: number;
  pid: number;
  starttime: number;
  user: string;
  reason: string;
  action: GuardAction['action'];
  outcome: string;
  gpu_before_mib: number | null;
  gpu_after_mib: number | null;
  command: string | null;
}

const { DatabaseSync } = await import('node:sqlite');

/**
 * The newest actions first, read-only from the guard's state in the corral home. Never creates a file:
 * no state (no guard ever ran, or an unreadable file) is an empty list, since a dashboard only shows it.
 */
export function recentGuardActions(limit = 50, env: NodeJS.ProcessEnv = process.env): GuardAction[] {
  const path = guardStatePath(env);
  if (!existsSync(path)) return [];
  let db: InstanceType<typeof DatabaseSync> | undefined;
  try {
    db = new DatabaseSync(new URL(`${pathToFileURL(path).href}?mode=ro`), { readOnly: true, timeout: 2000 });
    const rows = db
      .prepare('SELECT at, pid, starttime, user, reason, action, outcome, gpu_before_mib, gpu_after_mib, command FROM guard_actions ORDER BY id DESC LIMIT ?')
      .all(Math.max(0, Math.min(Math.floor(limit), 10_000))) as unknown as ActionRow[];
    return rows.map(toAction);
  } catch {
    return []; // a guard from before the table existed, or a file another user owns
  } finally {
    db?.close();
  }
}

function toAction(r: ActionRow): GuardAction {
  const a: GuardAction = { at: new Date(r.at).toISOString(), pid: r.pid, starttime: r.starttime, user: r.user, reason: r.reason, action: r.action, outcome: r.outcome };
  if (r.gpu_before_mib !== null) a.gpuBeforeMiB = r.gpu_before_mib;
  if (r.gpu_after_mib !== null) a.gpuAfterMiB = r.gpu_after_mib;
  if (r.command !== null) a.command = r.command;
  return a;
}
