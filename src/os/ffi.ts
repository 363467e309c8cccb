import { requireKoffi } from './koffi.ts';

const SYS_PIDFD_SEND_SIGNAL = 424; // the same number on every architecture (asm-generic table)
const SYS_PIDFD_OPEN = 434;
const PR_SET_CHILD_SUBREAPER = 36;
const PR_GET_CHILD_SUBREAPER = 37;
export const WNOHANG = 1;

interface Libc {
  prctl: (option: number, a2: number, a3: number, a4: number, a5: number) => number;
  prctlPtr: (option: number, out: number[], a3: number, a4: number, a5: number) => number;
  syscall: (...args: unknown[]) => number | bigint;
  waitpid: (pid: number, status: number[], options: number) => number;
  errno: () => number;
}

/** koffi's handle on glibc and its errno: the one place libc is opened, for every binding. */
export interface LibcLibrary {
  lib: { func: (decl: string) => any };
  errno: () => number;
}

let library: LibcLibrary | null | undefined;

/** The handle, or null where koffi or glibc cannot load. */
export function libcLibrary(): LibcLibrary | null {
  if (library !== undefined) return library;
  try {
    const koffi = requireKoffi();
    library = { lib: koffi.load('libc.so.6'), errno: () => koffi.errno() };
  } catch {
    library = null;
  }
  return library;
}

let libc: Libc | null | undefined;

/** The libc bindings, or null where koffi cannot load (then callers fall back to plain kill). */
export function loadLibc(): Libc | null {
  if (libc !== undefined) return libc;
  try {
    const { lib, errno } = libcLibrary()!;
    libc = {
      prctl: lib.func('int prctl(int, unsigned long, unsigned long, unsigned long, unsigned long)'),
      prctlPtr: lib.func('int prctl(int, _Out_ int *, unsigned long, unsigned long, unsigned long)'),
      syscall: lib.func('long syscall(long, ...)'),
      waitpid: lib.func('int waitpid(int, _Out_ int *, int)'),
      errno,
    };
  } catch {
    libc = null;
  }
  return libc;
}

export class SyscallError extends Error {
  readonly errno: number;
  readonly code: string;
  constructor(call: string, errno: number) {
    const code = ERRNO_NAMES[errno] ?? `errno ${errno}`;
    super(`${call} failed: ${code}`);
    this.errno = errno;
    this.code = code;
  }
}

export const ERRNO_NAMES: Record<number, string> = {
  1: 'EPERM', 2: 'ENOENT', 3: 'ESRCH', 4: 'EINTR', 8: 'ENOEXEC', 10: 'ECHILD', 13: 'EACCES', 20: 'ENOTDIR', 22: 'EINVAL', 38: 'ENOSYS',
};
const ECHILD = 10;

function need(): Libc {
  const l = loadLibc();
  if (!l) throw new Error('libc could not be loaded through koffi');
  return l;
}

/** Makes this process a child subreaper: orphans below it are re-parented to it, not to init. */
export function setChildSubreaper(): void {
  const l = need();
  if (l.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) !== 0) throw new SyscallError('prctl(PR_SET_CHILD_SUBREAPER)', l.errno());
}

export function isChildSubreaper(): boolean {
  const l = need();
  const out = [0];
  if (l.prctlPtr(PR_GET_CHILD_SUBREAPER, out, 0, 0, 0) !== 0) throw new SyscallError('prctl(PR_GET_CHILD_SUBREAPER)', l.errno());
  return out[0] !== 0;
}

/** Opens a pidfd; throws SyscallError (ESRCH when gone, ENOSYS on kernels before 5.3). */
export function pidfdOpen(pid: number): number {
  const l = need();
  const fd = Number(l.syscall(SYS_PIDFD_OPEN, 'int', pid, 'unsigned int', 0));
  if (fd < 0) throw new SyscallError('pidfd_open', l.errno());
  return fd;
}

/** pidfd_send_signal flag (Linux 6.9+): signal the process group of the pidfd's process. */
export const PIDFD_SIGNAL_PROCESS_GROUP = 1 << 2;

export function pidfdSendSignal(fd: number, signal: number, flags = 0): void {
  const l = need();
  const rc = Number(l.syscall(SYS_PIDFD_SEND_SIGNAL, 'int', fd, 'int', signal, 'void *', null, 'unsigned int', flags));
  if (rc < 0) throw new SyscallError('pidfd_send_signal', l.errno());
}

/**
 * Reaps one exited child that is not libuv's own: waitpid(-1) would steal the exit status of the
 * children Node spawned, so corral only ever waits for pids it adopted as a subreaper.
 * Returns the raw wait status, or null when the pid has not exited (or is not our child).
 */
export function reapChild(pid: number): number | null {
  const r = waitChild(pid);
  return typeof r === 'number' ? r : null;
}

/**
 * waitpid(pid, WNOHANG) for one child: its wait status once it has exited, 'running' while it runs (or
 * on EINTR), 'gone' when it is not (or no longer) a child of this process (ECHILD).
 */
export function waitChild(pid: number): number | 'running' | 'gone' {
  const l = need();
  const status = [0];
  const rc = l.waitpid(pid, status, WNOHANG);
  if (rc === pid) return status[0]!;
  return rc < 0 && l.errno() === ECHILD ? 'gone' : 'running';
}
