import { closeSync, constants, fstatSync, ftruncateSync, lstatSync, open, openSync } from 'node:fs';
import { UsageError } from '../config/errors.ts';

/**
 * Opening files that root may write where users can put things: a report in /tmp, a log beside a job.
 * Nothing is ever opened through a symbolic link (O_NOFOLLOW on the last component; a planted link to
 * authorized_keys or a file in /etc is refused, not followed), a new file is created exclusively, and an
 * existing file is appended to or replaced only when it is a regular file the effective user owns.
 */

const { O_WRONLY, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK } = constants;

function euid(): number {
  return process.geteuid?.() ?? 0;
}

/** The refusal: what is wrong with the path and what to do instead (exit 2, nothing written). */
export class UnsafePathError extends UsageError {
  readonly path: string;
  constructor(path: string, problem: string, fix: string) {
    super(`refusing to write ${path}: ${problem}`, `fix: ${fix}`);
    this.path = path;
  }
}

function explainOpenError(path: string, e: unknown, force: boolean): never {
  const code = (e as NodeJS.ErrnoException).code;
  if (code === 'ELOOP') throw new UnsafePathError(path, 'it is a symbolic link, which is never followed', `remove the link (rm ${path}) or write to another path`);
  if (code === 'EEXIST') {
    let link = false;
    try {
      link = lstatSync(path).isSymbolicLink();
    } catch {
      /* gone meanwhile */
    }
    if (link) throw new UnsafePathError(path, 'it is a symbolic link, which is never followed', `remove the link (rm ${path}) or write to another path`);
    throw new UnsafePathError(path, 'the file already exists', force ? `remove it first` : `add --force to replace it, or choose a new file name`);
  }
  if (code === 'ENOENT') throw new UnsafePathError(path, 'its directory does not exist', 'create the directory first, or write elsewhere');
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') throw new UnsafePathError(path, `not permitted (${code})`, 'write to a directory you can write');
  if (code === 'ENXIO') throw new UnsafePathError(path, 'it is not a regular file (a FIFO or socket)', 'write to a new file of your own');
  if (code === 'EISDIR') throw new UnsafePathError(path, 'it is a directory', 'give a file name');
  throw e;
}

/** An existing file opened for writing must be a regular file of ours, not one a link or a rename swapped in. */
function checkOpened(fd: number, path: string): void {
  const st = fstatSync(fd);
  const problem = !st.isFile()
    ? 'it is not a regular file'
    : st.uid !== euid()
      ? `it is owned by uid ${st.uid}, not by uid ${euid()} who writes it`
      : st.nlink > 1
        ? 'it has other hard links, so writing it would change another file'
        : null;
  if (problem) {
    closeSync(fd);
    throw new UnsafePathError(path, problem, 'write to a new file of your own');
  }
}

/**
 * Creates PATH for writing (mode 0600 unless given): exclusively, so an existing file or a symbolic link
 * is refused; with force an existing regular file of ours is truncated instead (a link still refused).
 */
export function openForCreate(path: string, opts: { force?: boolean; mode?: number } = {}): number {
  const mode = opts.mode ?? 0o600;
  try {
    return openSync(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, mode);
  } catch (e) {
    if (!opts.force || (e as NodeJS.ErrnoException).code !== 'EEXIST') explainOpenError(path, e, Boolean(opts.force));
  }
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO planted at the path must not hang the open; checkOpened refuses it
    fd = openSync(path, O_WRONLY | O_NOFOLLOW | O_NONBLOCK, mode);
  } catch (e) {
    explainOpenError(path, e, true);
  }
  checkOpened(fd, path);
  // truncated only after the checks: a file that is not ours is left as it was
  ftruncateSync(fd, 0);
  return fd;
}

const APPEND_FLAGS = O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_NONBLOCK;

/** Opens PATH for appending (creating it 0600): never through a link, only a regular file of ours. */
export function openForAppend(path: string, opts: { mode?: number } = {}): number {
  let fd: number;
  try {
    fd = openSync(path, APPEND_FLAGS, opts.mode ?? 0o600);
  } catch (e) {
    explainOpenError(path, e, false);
  }
  checkOpened(fd, path);
  return fd;
}

/**
 * openForAppend with the open(2) itself on a libuv worker thread: creating a file in a directory of
 * thousands (a pool's logs) costs ~0.4 ms of kernel time, which the supervisor's one thread need not wait
 * out. The same flags and the same checks on the descriptor it got.
 */
export async function openForAppendAsync(path: string, opts: { mode?: number } = {}): Promise<number> {
  let fd: number;
  try {
    fd = await new Promise<number>((resolve, reject) => open(path, APPEND_FLAGS, opts.mode ?? 0o600, (e, got) => (e ? reject(e) : resolve(got))));
  } catch (e) {
    explainOpenError(path, e, false);
  }
  checkOpened(fd, path);
  return fd;
}
