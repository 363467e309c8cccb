import { EventEmitter } from 'node:events';
import { Socket } from 'node:net';
import { constants } from 'node:os';
import { waitChild } from '../os/ffi.ts';
import { ownChildren, reapedStatuses } from './reaper.ts';

/*
 * A child corral started itself (src/os/posix-spawn.ts), not through libuv: libuv neither reaps it nor
 * reports its exit, so this module does, as tini does for its one child. On every SIGCHLD it asks
 * waitpid(pid, WNOHANG) for each such child by pid (never waitpid(-1), which would take the exit status of
 * libuv's children), and once a second besides, so a coalesced or early signal cannot leave one waiting.
 * While any of them runs and is not let go (unref), that timer keeps Node's event loop alive, as a libuv
 * process handle would. The pids are in the reaper's ownChildren while they run, so the subreaper's
 * reaping of adopted orphans leaves their exit status to this module; one that exited before it joined
 * (the spawn's result was still on its way from the worker thread) and was reaped as an orphan has its
 * status in the reaper's reapedStatuses.
 */

const SAFETY_POLL_MS = 1000;
const running = new Map<number, NativeChild>();
let poll: NodeJS.Timeout | null = null;
let listening = false;

const signalNames = new Map<number, NodeJS.Signals>(Object.entries(constants.signals).map(([name, n]) => [n, name as NodeJS.Signals]));

/** waitpid's status as Node reports an exit: (code, null) or (null, 'SIGNAME'). */
export function decodeWaitStatus(status: number): { code: number | null; signal: NodeJS.Signals | null } {
  if (status < 0) return { code: null, signal: null };
  const low = status & 0x7f;
  if (low === 0) return { code: (status >> 8) & 0xff, signal: null };
  return { code: null, signal: signalNames.get(low) ?? null };
}

/** The child's wait status once it has exited; null while it runs. */
function waitStatus(pid: number): number | null {
  const r = waitChild(pid);
  if (r === 'running') return null;
  if (r !== 'gone') return r;
  const status = reapedStatuses.get(pid);
  reapedStatuses.delete(pid);
  return status ?? -1; // reaped by someone else with its status unknown: an exit with neither code nor signal
}

function collectExited(): void {
  for (const [pid, child] of running) {
    const status = waitStatus(pid);
    if (status === null) continue;
    running.delete(pid);
    ownChildren.delete(pid);
    child.settle(decodeWaitStatus(status));
  }
  refreshPoll();
}

function refreshPoll(): void {
  if (running.size === 0) {
    if (poll) clearInterval(poll);
    poll = null;
    return;
  }
  poll ??= setInterval(collectExited, SAFETY_POLL_MS);
  const keepAlive = [...running.values()].some((c) => c.referenced);
  if (keepAlive) poll.ref();
  else poll.unref();
}

/** The part of Node's ChildProcess the job runner uses, for a child started by posix_spawn. */
export class NativeChild extends EventEmitter {
  readonly pid: number | undefined;
  readonly spawnfile: string;
  readonly stdin: Socket | null;
  readonly stdout: Socket | null;
  readonly stderr: Socket | null;
  exitCode: number | null = null;
  signalCode: NodeJS.Signals | null = null;
  referenced = true;

  constructor(spawnfile: string, pid: number | undefined, fds: (number | null)[]) {
    super();
    this.spawnfile = spawnfile;
    this.pid = pid;
    const open = (fd: number | null, readable: boolean) => (fd === null ? null : new Socket({ fd, readable, writable: !readable }));
    this.stdin = open(fds[0] ?? null, false);
    this.stdout = open(fds[1] ?? null, true);
    this.stderr = open(fds[2] ?? null, true);
  }

  /** Lets corral exit while this child still runs (its pipes are the caller's to destroy). */
  unref(): void {
    this.referenced = false;
    refreshPoll();
  }

  ref(): void {
    this.referenced = true;
    refreshPoll();
  }

  settle(exit: { code: number | null; signal: NodeJS.Signals | null }): void {
    this.exitCode = exit.code;
    this.signalCode = exit.signal;
    this.emit('exit', exit.code, exit.signal);
  }
}

/** Registers a just-spawned child for reaping; its 'exit' comes from a later turn of the event loop. */
export function watchNativeChild(child: NativeChild): void {
  const pid = child.pid!;
  if (!listening) {
    process.on('SIGCHLD', collectExited);
    listening = true;
  }
  ownChildren.add(pid);
  running.set(pid, child);
  refreshPoll();
  setImmediate(collectExited); // it may have exited before the listener's next signal
}

/** A failed exec (ENOENT, EACCES...) as Node reports it: an 'error' event and no pid, a turn later. */
export function failNativeChild(child: NativeChild, errno: number, code: string): void {
  const err = Object.assign(new Error(`spawn ${child.spawnfile} ${code}`), { errno: -errno, code, syscall: `spawn ${child.spawnfile}`, path: child.spawnfile });
  setImmediate(() => child.emit('error', err));
}
