import { closeSync, constants, fstatSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { checkOwnPath, secureHome } from '../ledger/home-safety.ts';
import { ledgerAccessError } from '../ledger/ledger-errors.ts';
import { BUSY_TIMEOUT_MS, enterWal, type Db } from '../ledger/db.ts';
import { guardStatePath } from './state-path.ts';

/** The guard's schema; append steps, never edit one (user_version counts them). */
const STEPS = [
  `CREATE TABLE guard_strays (
     pid INTEGER NOT NULL, starttime INTEGER NOT NULL, boot_id TEXT NOT NULL,
     uid INTEGER NOT NULL, user TEXT NOT NULL, command TEXT NOT NULL, reasons TEXT NOT NULL, severity TEXT NOT NULL,
     gpu_bytes INTEGER NOT NULL DEFAULT 0, run_id TEXT,
     first_up INTEGER NOT NULL, last_up INTEGER NOT NULL, first_at INTEGER NOT NULL, last_at INTEGER NOT NULL,
     gone_up INTEGER, notified_up INTEGER, notify_count INTEGER NOT NULL DEFAULT 0, reaped_up INTEGER, skip_note TEXT,
     PRIMARY KEY (pid, starttime, boot_id));
   CREATE TABLE guard_actions (
     id INTEGER PRIMARY KEY, at INTEGER NOT NULL, pid INTEGER NOT NULL, starttime INTEGER NOT NULL, user TEXT NOT NULL,
     reason TEXT NOT NULL, action TEXT NOT NULL, outcome TEXT NOT NULL, gpu_before_mib INTEGER, gpu_after_mib INTEGER, command TEXT);
   CREATE TABLE guard_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);`,
];

const { DatabaseSync } = await import('node:sqlite');

/**
 * Opens (creating) the guard's state with the ledger's rules: the home checked and 0700, the file created
 * 0600 without following a link and owned by us, WAL, a busy timeout. A SIGKILLed guard loses at most the
 * scan it was in: each scan's changes are one transaction.
 */
export function openGuardState(path = guardStatePath()): Db {
  try {
    secureHome(dirname(path), { create: true, ledgerName: basename(path) });
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      checkOwnPath(path, fstatSync(fd));
    } finally {
      closeSync(fd);
    }
    const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    enterWal(db); // the dashboard and `corral guard --status` may read it while the guard makes it
    db.exec('PRAGMA synchronous = NORMAL;');
    migrateState(db);
    return db;
  } catch (e) {
    throw ledgerAccessError(e, path, 'write');
  }
}

function migrateState(db: Db): void {
  const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
  for (let v = version; v < STEPS.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    db.exec(STEPS[v]!);
    db.exec(`PRAGMA user_version = ${v + 1}`);
    db.exec('COMMIT');
  }
}

/**
 * A scratch copy for `guard check`: what the guard remembers (so delays count from when it first saw each
 * stray), in memory, so that checking writes nothing.
 */
export function openScratchState(path = guardStatePath()): Db {
  const db = new DatabaseSync(':memory:');
  migrateState(db);
  const disk = openGuardStateToRead(path);
  if (!disk) return db;
  try {
    const rows = disk.prepare('SELECT * FROM guard_strays').all() as Record<string, string | number | null>[];
    for (const r of rows) {
      const keys = Object.keys(r);
      db.prepare(`INSERT INTO guard_strays (${keys.join(',')}) VALUES (${keys.map(() => '?').join(',')})`).run(...keys.map((k) => r[k]!));
    }
  } finally {
    disk.close();
  }
  return db;
}

/** Read-only, for `guard status`; null when no guard has kept state here. */
export function openGuardStateToRead(path = guardStatePath()): Db | null {
  if (!secureHome(dirname(path), { create: false, ledgerName: basename(path) })) return null;
  try {
    const db = new DatabaseSync(path, { readOnly: true, timeout: 5000 });
    db.prepare('SELECT 1 FROM guard_meta LIMIT 1').get();
    return db;
  } catch {
    return null;
  }
}

export function setMeta(db: Db, values: Record<string, string | number>): void {
  const put = db.prepare('INSERT INTO guard_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value');
  for (const [k, v] of Object.entries(values)) put.run(k, String(v));
}

export function readMeta(db: Db): Record<string, string> {
  const rows = db.prepare('SELECT key, value FROM guard_meta').all() as { key: string; value: string }[];
  return Object.fromEntries(rows.map((r) => [r.key, r.value]));
}

/** Adds to a counter kept across restarts (reaps and notifications done, for the metrics). */
export function bumpCounter(db: Db, key: string, by = 1): void {
  db.prepare("INSERT INTO guard_meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = CAST(value AS INTEGER) + ?").run(`count.${key}`, String(by), by);
}

export function readCounters(db: Db): Map<string, number> {
  const rows = db.prepare("SELECT key, value FROM guard_meta WHERE key LIKE 'count.%'").all() as { key: string; value: string }[];
  return new Map(rows.map((r) => [r.key.slice(6), Number(r.value)]));
}
