import { closeSync } from 'node:fs';
import { libcLibrary } from './ffi.ts';

/*
 * glibc's posix_spawn, called on a libuv worker thread. Node's own spawn (libuv) forks the whole supervisor
 * and then waits on the main thread until the child has called exec, so each spawn costs more the larger
 * corral's memory is (2.6-29 ms measured with 0-100 MiB of ballast) and the pool's one thread can start
 * only one task at a time. glibc's posix_spawn clones with CLONE_VM|CLONE_VFORK: no page tables are
 * copied, and only the calling thread waits for the exec, here a worker thread (koffi's async call).
 * The child gets what libuv gives a detached child: its own session (setsid), every signal at its default
 * disposition, an empty signal mask, the given fds on 0-2, and nothing else (corral's descriptors are all
 * close-on-exec). One difference: glibc leaves its own two reserved signals (32 and 33, below SIGRTMIN,
 * which is 34 in every glibc program) ignored in the child; a glibc program re-installs them at start.
 */

const POSIX_SPAWN_SETSIGDEF = 0x04;
const POSIX_SPAWN_SETSIGMASK = 0x08;
const POSIX_SPAWN_SETSID = 0x80; // glibc 2.26
const O_RDONLY = 0;
const O_RDWR = 2;
const O_CLOEXEC = 0o2000000;
const O_NONBLOCK = 0o4000;
const F_GETFL = 3;
const F_SETFL = 4;
const F_DUPFD_CLOEXEC = 1030;
/** where copies of low fds go while the child's fds are being laid out (glibc's file actions run in order) */
const HIGH_FD = 64;
// glibc's opaque types, with room to spare (x86_64: file actions 80 bytes, attributes 336, sigset_t 128)
const FILE_ACTIONS_BYTES = 256;
const ATTR_BYTES = 1024;
const SIGSET_BYTES = 256;

type AsyncFn = ((...args: unknown[]) => number) & { async: (...args: unknown[]) => void };

interface SpawnLib {
  spawn: AsyncFn;
  faInit: (fa: Buffer) => number;
  faDestroy: (fa: Buffer) => number;
  faDup2: (fa: Buffer, fd: number, to: number) => number;
  faOpen: (fa: Buffer, fd: number, path: string, flags: number, mode: number) => number;
  faChdir: (fa: Buffer, path: string) => number;
  attrInit: (attr: Buffer) => number;
  attrDestroy: (attr: Buffer) => number;
  attrFlags: (attr: Buffer, flags: number) => number;
  attrSigmask: (attr: Buffer, set: Buffer) => number;
  attrSigdefault: (attr: Buffer, set: Buffer) => number;
  sigfillset: (set: Buffer) => number;
  sigemptyset: (set: Buffer) => number;
  pipe2: (fds: number[], flags: number) => number;
  fcntl: (fd: number, cmd: number, ...rest: unknown[]) => number;
  errno: () => number;
}

let lib: SpawnLib | null | undefined;

/** The bindings, or null where they cannot load (no koffi, not glibc, a glibc before 2.29): Node's spawn then. */
export function loadSpawnLib(): SpawnLib | null {
  if (lib !== undefined) return lib;
  try {
    const { lib: c, errno } = libcLibrary()!;
    lib = {
      spawn: c.func('int posix_spawn(_Out_ int *pid, const char *path, void *fa, void *attr, const char **argv, const char **envp)'),
      faInit: c.func('int posix_spawn_file_actions_init(void *)'),
      faDestroy: c.func('int posix_spawn_file_actions_destroy(void *)'),
      faDup2: c.func('int posix_spawn_file_actions_adddup2(void *, int, int)'),
      faOpen: c.func('int posix_spawn_file_actions_addopen(void *, int, const char *, int, unsigned int)'),
      faChdir: c.func('int posix_spawn_file_actions_addchdir_np(void *, const char *)'),
      attrInit: c.func('int posix_spawnattr_init(void *)'),
      attrDestroy: c.func('int posix_spawnattr_destroy(void *)'),
      attrFlags: c.func('int posix_spawnattr_setflags(void *, short)'),
      attrSigmask: c.func('int posix_spawnattr_setsigmask(void *, void *)'),
      attrSigdefault: c.func('int posix_spawnattr_setsigdefault(void *, void *)'),
      sigfillset: c.func('int sigfillset(void *)'),
      sigemptyset: c.func('int sigemptyset(void *)'),
      pipe2: c.func('int pipe2(_Out_ int *fds, int)'),
      fcntl: c.func('int fcntl(int, int, ...)'),
      errno,
    };
  } catch {
    lib = null;
  }
  return lib;
}

/** What one of the child's fds 0-2 is: /dev/null, the write (read, for fd 0) end of a new pipe, or corral's own. */
export type NativeStdio = 'ignore' | 'pipe' | 'inherit';
/** A child fd beyond that: a copy of one of corral's open fds (Node's stdio entry given as a number). */
export type NativeFd = NativeStdio | number;

/**
 * Passes corral's own fd 0-2 on as libuv does in the child it forks. Node opens them close-on-exec, so
 * the child's copy needs a dup2 onto itself (which clears that flag in the child only). And it is made
 * blocking: that flag belongs to the open file description, which corral and the job share, so clearing
 * it here has the same effect (on both) as libuv's clearing it there; a job must not find its stdout
 * non-blocking (EAGAIN on a full pipe) because Node uses it so. A closed fd stays closed in the child.
 */
function inheritFd(l: SpawnLib, fa: Buffer, fd: number): void {
  const flags = l.fcntl(fd, F_GETFL);
  if (flags < 0) return;
  if (flags & O_NONBLOCK) l.fcntl(fd, F_SETFL, 'int', flags & ~O_NONBLOCK);
  check(l.faDup2(fa, fd, fd), 'posix_spawn_file_actions_adddup2');
}

export interface NativeSpawnRequest {
  /** an absolute path: no PATH search here */
  file: string;
  argv: string[];
  env: string[];
  cwd?: string;
  /** the child's fds 0, 1, 2 and on, in order (a pipe only on 0-2); every other fd of corral is closed on exec */
  stdio: NativeFd[];
}

/** An environment as posix_spawn takes it: NAME=value strings, unset variables left out. */
export function envStrings(env: NodeJS.ProcessEnv): string[] {
  return Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
}

/** The child's pid and corral's ends of its pipes (null where that fd is /dev/null); or exec's errno. */
export type NativeSpawnResult = { pid: number; fds: [number | null, number | null, number | null] } | { errno: number };

function check(rc: number, what: string): void {
  if (rc !== 0) throw new Error(`${what} failed: errno ${rc}`);
}

/**
 * Starts one process. Resolves with its pid once it has called exec (vfork semantics: glibc reports an
 * exec failure such as ENOENT as the return value), or with that errno; rejects only when the bindings
 * fail, with every descriptor it made closed. A worker thread waits for the exec, not the caller's.
 */
export async function posixSpawn(l: SpawnLib, req: NativeSpawnRequest): Promise<NativeSpawnResult> {
  const p = prepare(l, req);
  let rc: number;
  try {
    rc = await new Promise<number>((resolve, reject) => {
      l.spawn.async(...p.args, (err: unknown, value: number) => (err ? reject(err) : resolve(value)));
    });
  } catch (e) {
    return p.fail(e);
  }
  return p.finish(rc);
}

/**
 * The same on the calling thread, which waits only until the child has called exec (CLONE_VFORK: no copy
 * of corral's memory), well under a millisecond, where Node's spawn forks the whole supervisor first.
 */
export function posixSpawnSync(l: SpawnLib, req: NativeSpawnRequest): NativeSpawnResult {
  const p = prepare(l, req);
  let rc: number;
  try {
    rc = l.spawn(...p.args);
  } catch (e) {
    return p.fail(e);
  }
  return p.finish(rc);
}

interface Prepared {
  /** posix_spawn's arguments */
  args: unknown[];
  /** after the call: frees what was built, closes the child's ends; the result */
  finish(rc: number): NativeSpawnResult;
  /** after a call that threw: the same, corral's ends closed too, and the error thrown on */
  fail(e: unknown): never;
}

/** The file actions and attributes of one spawn, and the pipes it needs; on an error, nothing left open. */
function prepare(l: SpawnLib, req: NativeSpawnRequest): Prepared {
  for (const s of [req.file, req.cwd ?? '', ...req.argv, ...req.env]) {
    if (s.includes('\0')) throw new Error('an argument or environment string contains a NUL byte');
  }
  const fa = Buffer.alloc(FILE_ACTIONS_BYTES);
  const attr = Buffer.alloc(ATTR_BYTES);
  const all = Buffer.alloc(SIGSET_BYTES);
  const none = Buffer.alloc(SIGSET_BYTES);
  const ours: (number | null)[] = [null, null, null];
  const theirs: number[] = [];
  check(l.faInit(fa), 'posix_spawn_file_actions_init');
  let attrMade = false;
  const release = () => {
    if (attrMade) l.attrDestroy(attr);
    l.faDestroy(fa);
    for (const fd of theirs) closeSync(fd); // the child has its own copies now (or never will)
  };
  const fail = (e: unknown): never => {
    release();
    for (const fd of ours) if (fd !== null) closeSync(fd);
    throw e;
  };
  const pid = [0];
  try {
    check(l.attrInit(attr), 'posix_spawnattr_init');
    attrMade = true;
    l.sigfillset(all);
    l.sigemptyset(none);
    check(l.attrFlags(attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK), 'posix_spawnattr_setflags');
    check(l.attrSigmask(attr, none), 'posix_spawnattr_setsigmask');
    check(l.attrSigdefault(attr, all), 'posix_spawnattr_setsigdefault');
    if (req.cwd !== undefined) check(l.faChdir(fa, req.cwd), 'posix_spawn_file_actions_addchdir_np');
    req.stdio.forEach((kind, fd) => {
      if (typeof kind === 'number') return copyFd(l, fa, kind, fd, req.stdio.length, theirs);
      if (kind === 'inherit') return copyFd(l, fa, fd, fd, req.stdio.length, theirs);
      if (kind === 'ignore') return fd <= 2 ? check(l.faOpen(fa, fd, '/dev/null', fd === 0 ? O_RDONLY : O_RDWR, 0), 'posix_spawn_file_actions_addopen') : undefined; // above 2, closed (libuv's ignore)
      if (fd > 2) throw new Error(`a pipe on fd ${fd}: only fds 0-2 take one`);
      const ends = [-1, -1];
      if (l.pipe2(ends, O_CLOEXEC) !== 0) throw new Error(`pipe2 failed: errno ${l.errno()}`);
      const [readEnd, writeEnd] = ends as [number, number];
      ours[fd] = fd === 0 ? writeEnd : readEnd;
      theirs.push(fd === 0 ? readEnd : writeEnd);
      check(l.faDup2(fa, fd === 0 ? readEnd : writeEnd, fd), 'posix_spawn_file_actions_adddup2');
    });
  } catch (e) {
    return fail(e);
  }
  return {
    args: [pid, req.file, fa, attr, [...req.argv, null], [...req.env, null]],
    finish(rc) {
      release();
      if (rc !== 0) {
        for (const fd of ours) if (fd !== null) closeSync(fd);
        return { errno: rc };
      }
      return { pid: pid[0]!, fds: ours as [number | null, number | null, number | null] };
    },
    fail,
  };
}

/**
 * Child fd `to` as a copy of corral's fd `from`, as libuv's child does for a numeric stdio entry (fds 0-2
 * made blocking, see inheritFd). A `from` that is itself one of the child's fds 0..slots-1 (and not `to`)
 * could be overwritten by an earlier action, so the child gets it through a close-on-exec copy above them.
 */
function copyFd(l: SpawnLib, fa: Buffer, from: number, to: number, slots: number, theirs: number[]): void {
  if (from === to && to <= 2) return inheritFd(l, fa, to);
  if (from === to) return check(l.faDup2(fa, from, to), 'posix_spawn_file_actions_adddup2'); // clears close-on-exec in the child
  let source = from;
  if (from < slots && from !== to) {
    source = l.fcntl(from, F_DUPFD_CLOEXEC, 'int', HIGH_FD);
    if (source < 0) throw new Error(`fcntl(F_DUPFD_CLOEXEC) of fd ${from} failed: errno ${l.errno()}`);
    theirs.push(source);
  }
  if (to <= 2) {
    const flags = l.fcntl(source, F_GETFL);
    if (flags >= 0 && flags & O_NONBLOCK) l.fcntl(source, F_SETFL, 'int', flags & ~O_NONBLOCK);
  }
  check(l.faDup2(fa, source, to), 'posix_spawn_file_actions_adddup2');
}
