import { closeSync, constants, existsSync, fstatSync, openSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import { pathToFileURL } from 'node:url';
import { MIGRATIONS } from './migrations.ts';
import { ledgerPath } from './location.ts';
import { checkOwnPath, secureHome } from './home-safety.ts';
import { ledgerAccessError, sqliteCode, SQLITE } from './ledger-errors.ts';
import { monotonicMs } from '../proc/clock.ts';

// node:sqlite prints an ExperimentalWarning on some 22.x/24.x releases; corral's output is for people
// and scripts, so that one warning is dropped and every other warning is kept.
const emitWarning = process.emitWarning;
process.emitWarning = ((warning: string | Error, ...rest: unknown[]) => {
  const text = typeof warning === 'string' ? warning : warning.message;
  if (/SQLite/i.test(text)) return;
  return (emitWarning as (...a: unknown[]) => void).call(process, warning, ...rest);
}) as typeof process.emitWarning;

const { DatabaseSync } = await import('node:sqlite');
export type Db = InstanceType<typeof DatabaseSync>;

export interface OpenOptions {
  /** a ledger of this uid is accepted too (tests that read what corral, run as nobody, wrote) */
  allowOwner?: number;
}

/**
 * Opens (creating when needed) the ledger: WAL so readers never block the supervisor, and a busy timeout.
 * The home is checked first (owner, write bits: see home-safety.ts) and made 0700; the file is created
 * 0600 before SQLite opens it, since SQLite gives -wal and -shm the mode of the database file.
 */
export function openLedger(path = ledgerPath(), opts: OpenOptions = {}): Db {
  try {
    secureHome(dirname(path), { create: true, ledgerName: basename(path), allowOwner: opts.allowOwner });
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
    try {
      checkOwnPath(path, fstatSync(fd), opts.allowOwner);
    } finally {
      closeSync(fd);
    }
    const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
    try {
      enterWal(db);
      db.exec('PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
      migrate(db);
    } catch (e) {
      db.close();
      throw e;
    }
    return db;
  } catch (e) {
    throw ledgerAccessError(e, path, 'write');
  }
}

/** How long a statement waits for another connection's lock: the ledger's and the guard state's. */
export const BUSY_TIMEOUT_MS = 5000;

/**
 * `PRAGMA journal_mode = WAL` with the same patience as any other lock. Turning a new ledger to WAL needs
 * the file to itself, and SQLite answers SQLITE_BUSY at once, without its busy handler, while another
 * connection has it open: a `corral run` that made a new home's ledger while `corral ps`, the dashboard or
 * a test read it failed with "another process holds a lock" (12 of 60 tries against a reader in a loop).
 * So it is retried every 10 ms for up to the busy timeout; once the file is in WAL it stays so, and later
 * opens pass at once. A file system where WAL cannot be had leaves the mode as it was, as before.
 */
export function enterWal(db: Db, timeoutMs = BUSY_TIMEOUT_MS): void {
  const deadline = monotonicMs() + timeoutMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      db.exec('PRAGMA journal_mode = WAL');
      return;
    } catch (e) {
      const code = sqliteCode(e);
      if ((code !== SQLITE.BUSY && code !== SQLITE.LOCKED) || monotonicMs() >= deadline) throw e;
    }
    Atomics.wait(pause, 0, 0, 10); // opening the ledger is synchronous: a bounded sleep of this thread
  }
}

/**
 * For commands that only look (ps, history, strays, report, logs, reap's plan): never creates a ledger
 * (a missing one is an empty in-memory ledger), and works on a read-only one: read-write when it can
 * (reap records what it did), else read-only, else immutable (a read-only file system where SQLite
 * cannot make the -shm file).
 */
export function openLedgerToRead(path = ledgerPath(), opts: OpenOptions = {}): Db {
  let home: boolean;
  try {
    home = secureHome(dirname(path), { create: false, ledgerName: basename(path), allowOwner: opts.allowOwner });
  } catch (e) {
    throw ledgerAccessError(e, path, 'read');
  }
  if (!home || !existsSync(path)) {
    const db = new DatabaseSync(':memory:');
    migrate(db);
    return db;
  }
  const tries: (() => Db)[] = [
    () => new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS }),
    () => new DatabaseSync(path, { readOnly: true, timeout: BUSY_TIMEOUT_MS }),
    () => new DatabaseSync(new URL(`${pathToFileURL(path).href}?immutable=1`), { readOnly: true }),
  ];
  let last: unknown;
  for (const open of tries) {
    let db: Db | undefined;
    try {
      db = open();
      db.exec('PRAGMA foreign_keys = ON');
      const version = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (version < MIGRATIONS.length) {
        try {
          migrate(db);
        } catch (e) {
          // read-only and older than this corral: what it has is still worth showing
          if (open === tries[0]) throw e;
        }
      }
      return db;
    } catch (e) {
      last = e;
      try {
        db?.close();
      } catch {
        /* already unusable */
      }
    }
  }
  throw ledgerAccessError(last, path, 'read');
}

export function migrate(db: Db): void {
  const row = db.prepare('PRAGMA user_version').get() as { user_version: number };
  for (let v = row.user_version; v < MIGRATIONS.length; v++) {
    db.exec('BEGIN IMMEDIATE');
    try {
      // a second process may have migrated between our read and our lock
      const now = (db.prepare('PRAGMA user_version').get() as { user_version: number }).user_version;
      if (now > v) {
        db.exec('COMMIT');
        continue;
      }
      db.exec(MIGRATIONS[v]!);
      db.exec(`PRAGMA user_version = ${v + 1}`);
      db.exec('COMMIT');
    } catch (e) {
      db.exec('ROLLBACK');
      throw e;
    }
  }
}

export function schemaVersion(): number {
  return MIGRATIONS.length;
}
