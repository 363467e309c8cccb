import type { Db } from './db.ts';
import { matchRun } from './refs.ts';

/** 'stopped': ended by `corral stop` (its supervisor tore it down on request). */
export type RunStatus = 'running' | 'succeeded' | 'failed' | 'interrupted' | 'stopped' | 'lost';
export const RUN_STATUSES: readonly RunStatus[] = ['running', 'succeeded', 'failed', 'interrupted', 'stopped', 'lost'];

export interface RunRow {
  id: string;
  kind: string;
  name: string | null;
  argv: string;
  cwd: string | null;
  uid: number | null;
  user: string | null;
  host: string | null;
  supervisor_pid: number | null;
  supervisor_starttime: number | null;
  sentinel_pid: number | null;
  sentinel_starttime: number | null;
  containment: string | null;
  cgroup: string | null;
  config: string | null;
  started_at: number;
  ended_at: number | null;
  status: RunStatus;
  stop_reason: string | null;
  exit_code: number | null;
  /** /proc/sys/kernel/random/boot_id when the run started (null in rows from before migration 2) */
  boot_id: string | null;
  /** clock ticks since boot when the run started and ended: the clock of /proc/PID/stat's starttime */
  start_ticks: number | null;
  end_ticks: number | null;
}

export function insertRun(db: Db, r: Pick<RunRow, 'id' | 'kind' | 'name' | 'argv' | 'cwd' | 'uid' | 'user' | 'host' | 'supervisor_pid' | 'supervisor_starttime' | 'config' | 'started_at' | 'boot_id' | 'start_ticks'>): void {
  db.prepare(
    `INSERT INTO runs (id, kind, name, argv, cwd, uid, user, host, supervisor_pid, supervisor_starttime, config, started_at, boot_id, start_ticks, status)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'running')`,
  ).run(r.id, r.kind, r.name, r.argv, r.cwd, r.uid, r.user, r.host, r.supervisor_pid, r.supervisor_starttime, r.config, r.started_at, r.boot_id, r.start_ticks);
}

export function updateRun(db: Db, id: string, fields: Partial<Omit<RunRow, 'id'>>): void {
  const keys = Object.keys(fields);
  if (!keys.length) return;
  const sets = keys.map((k) => `${k} = ?`).join(', ');
  db.prepare(`UPDATE runs SET ${sets} WHERE id = ?`).run(...(keys.map((k) => (fields as Record<string, never>)[k]) as never[]), id);
}

export function getRun(db: Db, id: string): RunRow | undefined {
  return db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as RunRow | undefined;
}

/**
 * The run a reference names (the grammar of refs.ts: 'last', an id or unique prefix, a name), or undefined
 * when it names none or more than one. Commands use resolveRef, which says which of the two it was.
 */
export function findRun(db: Db, ref: string): RunRow | undefined {
  const m = matchRun(db, ref);
  return m.kind === 'one' ? m.run : undefined;
}

export function listRuns(db: Db, opts: { status?: RunStatus | RunStatus[]; limit?: number } = {}): RunRow[] {
  const statuses = opts.status === undefined ? [] : Array.isArray(opts.status) ? opts.status : [opts.status];
  const where = statuses.length ? `WHERE status IN (${statuses.map(() => '?').join(', ')})` : '';
  const args = statuses;
  return db.prepare(`SELECT * FROM runs ${where} ORDER BY started_at DESC, id DESC LIMIT ?`).all(...args, opts.limit ?? 50) as unknown as RunRow[];
}

/**
 * Runs of this boot that were active at a moment given in clock ticks since boot (a process's
 * starttime): started before it and not ended before it. The wall clock plays no part.
 */
export function runsActiveAt(db: Db, bootId: string, atTicks: number): RunRow[] {
  return db
    .prepare('SELECT * FROM runs WHERE boot_id = ? AND start_ticks <= ? AND (end_ticks IS NULL OR end_ticks >= ?) ORDER BY start_ticks')
    .all(bootId, atTicks, atTicks) as unknown as RunRow[];
}

/** True when the run was started in an earlier boot: none of its identities can name a live process. */
export function fromEarlierBoot(run: Pick<RunRow, 'boot_id'>, bootId: string): boolean {
  return run.boot_id !== null && run.boot_id !== bootId;
}
