import { UsageError } from '../config/errors.ts';

/** SQLite's primary result codes that say something about the file rather than the statement. */
export const SQLITE = { BUSY: 5, LOCKED: 6, READONLY: 8, IOERR: 10, CORRUPT: 11, FULL: 13, CANTOPEN: 14, PERM: 3 } as const;

export function sqliteCode(e: unknown): number | null {
  const code = (e as { errcode?: unknown })?.errcode;
  return typeof code === 'number' ? code & 0xff : null;
}

/** What went wrong with the ledger file, in words, or null when it is not a file problem. */
export function describeLedgerFault(e: unknown): string | null {
  const errno = (e as NodeJS.ErrnoException)?.code;
  const sq = sqliteCode(e);
  if (errno === 'EROFS' || sq === SQLITE.READONLY) return 'the file system or the file is read-only';
  if (errno === 'ENOSPC' || errno === 'EDQUOT' || sq === SQLITE.FULL) return 'no space left on its file system';
  if (errno === 'EACCES' || errno === 'EPERM' || sq === SQLITE.PERM) return 'permission denied';
  if (errno === 'ELOOP') return 'it is a symbolic link';
  if (sq === SQLITE.BUSY || sq === SQLITE.LOCKED) return 'another process holds a lock on it';
  if (sq === SQLITE.CANTOPEN) return 'it cannot be opened (a read-only or missing directory?)';
  if (sq === SQLITE.IOERR) return 'an I/O error';
  if (sq === SQLITE.CORRUPT) return 'the file is damaged';
  return null;
}

/** One line naming the file and the fix, in place of a raw SQLite error and its stack. */
export function ledgerAccessError(e: unknown, path: string, use: 'read' | 'write'): unknown {
  if (e instanceof UsageError) return e;
  const why = describeLedgerFault(e);
  if (!why) return e;
  const fix = /space/.test(why)
    ? 'free space on that file system, or set CORRAL_HOME to a directory on another one'
    : /lock/.test(why)
      ? 'wait for the other corral to finish, then try again'
      : use === 'write'
        ? `make ${path} and its directory writable by you, or set CORRAL_HOME to a directory you can write`
        : `make ${path} readable by you, or set CORRAL_HOME to the home you meant`;
  return new UsageError(`cannot ${use} the ledger ${path}: ${why}`, `fix: ${fix}`);
}
