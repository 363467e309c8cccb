import { closeSync } from 'node:fs';
import { constants } from 'node:os';
import { readStat } from './stat.ts';
import { isLiveState, type Identity } from './identity.ts';
import { PIDFD_SIGNAL_PROCESS_GROUP, pidfdOpen, pidfdSendSignal, SyscallError, loadLibc } from '../os/ffi.ts';

export type SignalResult = 'sent' | 'gone' | 'eperm';

let pidfdWorks: boolean | undefined;

export function signalNumber(sig: NodeJS.Signals | number): number {
  if (typeof sig === 'number') return sig;
  const n = constants.signals[sig];
  if (n === undefined) throw new Error(`unknown signal ${sig}`);
  return n;
}

/**
 * Signals exactly the process named by the identity, never a reused pid. With a pidfd the check is
 * race-free: once the fd is open it pins the process, and the starttime read after opening it proves
 * the fd names the right one. Without pidfds (kernel < 5.3) a small window remains between the check
 * and kill(2). `then` follows the signal through the same fd and check (a stop signal, then SIGCONT):
 * one identity check instead of two, which halves the cost of a teardown's first round.
 */
export function signalIdentity(id: Identity, sig: NodeJS.Signals | number, then?: NodeJS.Signals | number): SignalResult {
  const signo = signalNumber(sig);
  const follow = then === undefined ? 0 : signalNumber(then);
  if (id.pid <= 1) throw new Error(`refusing to signal pid ${id.pid}`);
  if (pidfdWorks !== false && loadLibc()) {
    let fd = -1;
    try {
      fd = pidfdOpen(id.pid);
      pidfdWorks = true;
    } catch (e) {
      if (e instanceof SyscallError && e.code === 'ESRCH') return 'gone';
      if (e instanceof SyscallError && e.code === 'ENOSYS') pidfdWorks = false;
      else throw e;
    }
    if (fd >= 0) {
      try {
        const st = readStat(id.pid);
        if (!st || st.starttime !== id.starttime) return 'gone';
        pidfdSendSignal(fd, signo);
        if (follow) sendAfter(() => pidfdSendSignal(fd, follow));
        return 'sent';
      } catch (e) {
        if (e instanceof SyscallError && e.code === 'ESRCH') return 'gone';
        if (e instanceof SyscallError && e.code === 'EPERM') return 'eperm';
        throw e;
      } finally {
        closeSync(fd);
      }
    }
  }
  const st = readStat(id.pid);
  if (!st || st.starttime !== id.starttime) return 'gone';
  try {
    process.kill(id.pid, signo);
    if (follow) sendAfter(() => process.kill(id.pid, follow));
    return 'sent';
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ESRCH') return 'gone';
    if (code === 'EPERM') return 'eperm';
    throw e;
  }
}

/** The follow-up signal: the first one was delivered, so a process gone meanwhile is no failure. */
function sendAfter(send: () => void): void {
  try {
    send();
  } catch {
    /* it died of the first signal */
  }
}

let groupSignalWorks: boolean | undefined;

/**
 * Signals a job leader's whole process group in one call, through the leader's pidfd (Linux 6.9+), and
 * returns the group id; null where that cannot be done safely or at all (leader gone or not itself,
 * no longer leader of its own session and group, older kernel, no permission). The session check is
 * what makes it safe: corral started the leader with setsid, so every process in a group of that
 * session is a member of the job.
 */
export function signalGroupOf(leader: Identity, sig: NodeJS.Signals, then?: NodeJS.Signals): number | null {
  if (groupSignalWorks === false || pidfdWorks === false || leader.pid <= 1 || !loadLibc()) return null;
  let fd: number;
  try {
    fd = pidfdOpen(leader.pid);
  } catch {
    return null;
  }
  try {
    const st = readStat(leader.pid);
    if (!st || st.starttime !== leader.starttime || st.pgid !== leader.pid || st.sid !== leader.pid || !isLiveState(st.state)) return null;
    pidfdSendSignal(fd, signalNumber(sig), PIDFD_SIGNAL_PROCESS_GROUP);
    groupSignalWorks = true;
    if (then) sendAfter(() => pidfdSendSignal(fd, signalNumber(then), PIDFD_SIGNAL_PROCESS_GROUP));
    return st.pgid;
  } catch (e) {
    if (e instanceof SyscallError && e.code === 'EINVAL') groupSignalWorks = false;
    return null;
  } finally {
    closeSync(fd);
  }
}
