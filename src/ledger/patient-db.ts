import type { Db } from './db.ts';
import { SQLITE, sqliteCode } from './ledger-errors.ts';
import { monotonicMs } from '../proc/clock.ts';

/**
 * The supervisor's ledger connection. A job's exit status must never be lost to the ledger: a lock held
 * longer than the busy timeout, a full disk, an I/O error. A write is retried with a bounded backoff
 * (a lock for up to the patience, a full disk or I/O error for a few seconds); one that still fails is
 * recorded as a fault and skipped, so the job goes on and corral still returns the job's status.
 * Reads, and statements inside a transaction (whose caller rolls back), fail as they always did.
 */

/** How long a locked ledger is waited for, in all: CORRAL_LEDGER_PATIENCE_MS, default 30 s. */
export function ledgerPatienceMs(): number {
  const v = Number(process.env.CORRAL_LEDGER_PATIENCE_MS);
  return Number.isFinite(v) && v >= 0 ? v : 30_000;
}

const SPACE_PATIENCE_MS = 2_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleepSync(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

export interface LedgerFaults {
  count: number;
  first: unknown;
}

function retryable(e: unknown): 'busy' | 'space' | null {
  const c = sqliteCode(e);
  if (c === SQLITE.BUSY || c === SQLITE.LOCKED) return 'busy';
  if (c === SQLITE.FULL || c === SQLITE.IOERR) return 'space';
  return null;
}

// How writeTogether finds the patient wrapper's retry behind a plain Db (JobContext passes a Db).
const TOGETHER = Symbol('corral.writeTogether');
type Together = (fn: () => void) => void;

/**
 * Writes that record one moment (an attempt's end: its row, its event, its job) in one transaction:
 * one WAL append instead of one per statement, and all or none of them after a crash instead of a
 * prefix. Durability is the ledger's as before (WAL, synchronous = NORMAL, one commit per moment).
 * On a patient connection the whole transaction is retried (locks, a full disk) and, past the
 * patience, recorded as one fault and skipped, as a single write is; elsewhere it throws.
 */
export function writeTogether(db: Db, fn: () => void): void {
  const together = (db as unknown as Record<symbol, Together | undefined>)[TOGETHER];
  if (together) together(fn);
  else runInTransaction(db, fn);
}

function runInTransaction(db: Db, fn: () => void): void {
  db.exec('BEGIN IMMEDIATE');
  try {
    fn();
    db.exec('COMMIT');
  } catch (e) {
    if (db.isTransaction) db.exec('ROLLBACK');
    throw e;
  }
}

// Statements are compiled once per connection: the SQL of corral's writes is a small fixed set (an
// update's SQL varies only with its column names), and compiling one costs as much as running it.
const MAX_CACHED_STATEMENTS = 128;

export function patientDb(db: Db, onFault: (e: unknown) => void): { db: Db; faults: LedgerFaults } {
  const faults: LedgerFaults = { count: 0, first: null };
  const fault = (e: unknown) => {
    if (faults.count++ === 0) faults.first = e;
    onFault(e);
  };
  const attempt = <T>(fn: () => T, write: boolean, skipped: T): T => {
    const started = monotonicMs();
    let delay = 50;
    for (;;) {
      try {
        return fn();
      } catch (e) {
        const kind = retryable(e);
        const inTxn = db.isOpen && db.isTransaction;
        const patience = kind === 'busy' ? ledgerPatienceMs() : SPACE_PATIENCE_MS;
        if (kind && !inTxn && write && monotonicMs() - started + delay < patience) {
          sleepSync(delay);
          delay = Math.min(delay * 2, 1000);
          continue;
        }
        if (!write || inTxn || !db.isOpen) throw e;
        fault(e);
        return skipped;
      }
    }
  };
  const wrapStatement = (stmt: ReturnType<Db['prepare']>) =>
    new Proxy(stmt, {
      get(target, prop) {
        const v = Reflect.get(target, prop, target) as unknown;
        if (typeof v !== 'function') return v;
        if (prop === 'run') return (...args: unknown[]) => attempt(() => (v as (...a: unknown[]) => unknown).apply(target, args), true, { changes: 0, lastInsertRowid: 0 });
        return (v as (...a: unknown[]) => unknown).bind(target);
      },
    });
  const cache = new Map<string, ReturnType<Db['prepare']>>();
  const prepare = (sql: string) => {
    let stmt = cache.get(sql);
    if (!stmt) {
      stmt = wrapStatement(db.prepare(sql));
      if (cache.size >= MAX_CACHED_STATEMENTS) cache.delete(cache.keys().next().value!);
      cache.set(sql, stmt);
    }
    return stmt;
  };
  const together: Together = (fn) => attempt(() => runInTransaction(proxy, fn), true, undefined);
  const proxy: Db = new Proxy(db, {
    get(target, prop) {
      if (prop === TOGETHER) return together;
      const v = Reflect.get(target, prop, target) as unknown;
      if (typeof v !== 'function') return v;
      if (prop === 'prepare') return prepare;
      if (prop === 'exec') {
        return (sql: string) => {
          // transaction control fails as before: the caller's catch rolls back
          if (/^\s*(BEGIN|COMMIT|END|ROLLBACK|SAVEPOINT|RELEASE)\b/i.test(sql)) return target.exec(sql);
          return attempt(() => target.exec(sql), true, undefined);
        };
      }
      return (v as (...a: unknown[]) => unknown).bind(target);
    },
  });
  return { db: proxy, faults };
}

/**
 * The run's final record: retried with a backoff that never blocks the event loop, up to the patience.
 * Returns null once written, or the last error when the ledger could not take it.
 */
export async function persistFinal(write: () => void, patienceMs = ledgerPatienceMs()): Promise<unknown> {
  const started = monotonicMs();
  let delay = 100;
  for (;;) {
    try {
      write();
      return null;
    } catch (e) {
      const kind = retryable(e);
      const limit = kind === 'busy' ? patienceMs : SPACE_PATIENCE_MS;
      if (!kind || monotonicMs() - started + delay >= limit) return e;
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 2000);
    }
  }
}
