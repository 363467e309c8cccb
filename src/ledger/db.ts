import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { MIGRATIONS } from './migrations.ts';
import { ledgerPath } from './location.ts';

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

/** Opens (creating when needed) the ledger: WAL so readers never block the supervisor, and a busy timeout. */
export function openLedger(path = ledgerPath()): Db {
  mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { timeout: 5000 });
  db.exec('PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON;');
  migrate(db);
  return db;
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
