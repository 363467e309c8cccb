import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../config/errors.ts';

/**
 * The ssh rule for key files, applied to corral's home: the ledger decides what `reap --run` kills, so
 * root must never read one that a user can write. The home, the ledger and its -wal/-shm must be owned
 * by the effective user and not writable by group or other; every directory above the home must be
 * owned by root or by us and not writable by others unless sticky (/tmp). What is only too readable
 * (a 0755 home, a 0644 ledger from an older corral) is tightened, since it may hold secrets in logs.
 */

export function effectiveUid(): number {
  return process.geteuid?.() ?? 0;
}

/** The user name of a uid from /etc/passwd (no getpwuid in Node); the number when it is not there. */
export function userNameOf(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const f = line.split(':');
      if (f.length > 2 && Number(f[2]) === uid) return f[0]!;
    }
  } catch {
    /* no passwd file: the number will do */
  }
  return String(uid);
}

function refuse(path: string, problem: string, fix: string): never {
  throw new UsageError(`refusing ${path}: ${problem}`, `fix: ${fix}, or set CORRAL_HOME to a directory of your own`);
}

/** Owner and write bits of one of corral's own paths (the home, the ledger, its -wal/-shm, logs). */
export function checkOwnPath(path: string, st: Stats, allowOwner?: number): void {
  const me = effectiveUid();
  if (st.uid !== me && st.uid !== allowOwner) {
    refuse(path, `it is owned by ${userNameOf(st.uid)} (uid ${st.uid}), not by ${userNameOf(me)} (uid ${me}) who runs corral`, `chown ${userNameOf(me)} ${path}`);
  }
  if (st.mode & 0o022) refuse(path, `group or other users can write it (mode ${(st.mode & 0o7777).toString(8).padStart(4, '0')})`, `chmod go-w ${path}`);
}

/** Every directory above the home: owned by root or us, and not writable by others unless sticky. */
export function checkAncestors(home: string, allowOwner?: number): void {
  const me = effectiveUid();
  let dir = dirname(resolve(home));
  for (;;) {
    let st: Stats;
    try {
      st = statSync(dir);
    } catch {
      st = null as unknown as Stats;
    }
    if (st) {
      if (st.uid !== 0 && st.uid !== me && st.uid !== allowOwner) {
        refuse(resolve(home), `its parent ${dir} is owned by ${userNameOf(st.uid)} (uid ${st.uid}), who could replace it`, `keep the corral home under a directory owned by ${userNameOf(me)} or root`);
      }
      if (st.mode & 0o022 && !(st.mode & 0o1000)) refuse(resolve(home), `its parent ${dir} is writable by group or other users and not sticky`, `chmod go-w ${dir}`);
    }
    const up = dirname(dir);
    if (up === dir) return;
    dir = up;
  }
}

function tighten(path: string, st: Stats, mode: number): void {
  if ((st.mode & 0o777 & ~mode) === 0) return;
  try {
    chmodSync(path, st.mode & mode);
  } catch {
    /* a read-only file system: nothing can be added to it either */
  }
}

/**
 * Checks the home and what corral keeps in it; with create, makes the home (0700) when it is missing.
 * Returns false when the home does not exist and was not to be created.
 */
export function secureHome(home: string, opts: { create: boolean; ledgerName?: string; allowOwner?: number }): boolean {
  checkAncestors(home, opts.allowOwner);
  if (opts.create) mkdirSync(home, { recursive: true, mode: 0o700 });
  let st: Stats;
  try {
    st = statSync(home);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw e;
  }
  if (!st.isDirectory()) refuse(home, 'it is not a directory', `remove it or point CORRAL_HOME elsewhere`);
  checkOwnPath(home, st, opts.allowOwner);
  tighten(home, st, 0o700);
  const ledger = opts.ledgerName ?? 'ledger.sqlite';
  for (const name of [ledger, `${ledger}-wal`, `${ledger}-shm`, 'logs']) {
    const path = join(home, name);
    let f: Stats;
    try {
      f = lstatSync(path);
    } catch {
      continue;
    }
    if (f.isSymbolicLink()) refuse(path, 'it is a symbolic link', `remove the link: rm ${path}`);
    checkOwnPath(path, f, opts.allowOwner);
    tighten(path, f, f.isDirectory() ? 0o700 : 0o600);
  }
  return true;
}
