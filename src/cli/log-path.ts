import { closeSync, lstatSync, unlinkSync } from 'node:fs';
import { UsageError } from '../config/errors.ts';
import { openLogFd } from '../jobs/log-file.ts';

/**
 * Refuses a --log FILE corral could not write, before anything starts: the file is opened the way the
 * job's log will be (append, no symlinks; missing directories are created, as the run would) and, if
 * this check created the file, it is removed again.
 */
export function checkLogPath(path: string): void {
  const hint = 'choose a file in a directory you can write (--log ./train.log), or give --log alone for the run\'s own log (corral logs RUN)';
  const existed = exists(path);
  let fd: number;
  try {
    fd = openLogFd(path);
  } catch (e) {
    if (e instanceof UsageError) throw e; // safe-open's own refusal (a link, not ours) names the fix
    throw new UsageError(`cannot write the log file ${path}: ${describe(e)}`, hint);
  }
  closeSync(fd);
  if (!existed) unlinkSync(path);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

function describe(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  if (err.code === 'ELOOP') return 'it is a symbolic link, and corral does not write through links';
  // "EACCES: permission denied, open '/x'" -> "EACCES: permission denied"
  return /^[A-Z]+: [^,]+/.exec(err.message ?? '')?.[0] ?? String(e);
}
