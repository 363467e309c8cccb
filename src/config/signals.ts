import { constants } from 'node:os';
import { UsageError, suggest } from './errors.ts';

/**
 * Signals whose default action does not end a process: STOP, TSTP, TTIN and TTOU stop it (it then sits
 * stopped through the whole grace period), CONT, CHLD, WINCH and URG are ignored. As the signal that
 * asks a job to stop, each would only delay the SIGKILL; KILL itself is fine (teardown at once).
 */
export const NON_STOPPING_SIGNALS: readonly NodeJS.Signals[] = ['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU', 'SIGCONT', 'SIGCHLD', 'SIGWINCH', 'SIGURG'];

/** A signal that exists but cannot ask a process to end; its message is kept as it is by callers. */
export class NonStoppingSignalError extends UsageError {}

/** Accepts TERM, SIGTERM, sigterm or 15 (a signal that ends a process by default); returns the canonical name. */
export function parseSignal(text: string): NodeJS.Signals {
  const sig = lookUpSignal(text);
  if (NON_STOPPING_SIGNALS.includes(sig)) {
    const what = ['SIGSTOP', 'SIGTSTP', 'SIGTTIN', 'SIGTTOU'].includes(sig) ? 'suspends a process instead of ending it' : 'is ignored by default, so it ends nothing';
    throw new NonStoppingSignalError(`expected a signal that ends a process, found ${sig}: it ${what}`, 'use TERM (the default), INT, HUP, QUIT, USR1 for a job that handles it, or KILL');
  }
  return sig;
}

function lookUpSignal(text: string): NodeJS.Signals {
  const s = String(text).trim().toUpperCase();
  const names = Object.keys(constants.signals) as NodeJS.Signals[];
  if (/^\d+$/.test(s)) {
    const found = names.find((n) => constants.signals[n] === Number(s));
    if (found) return found;
  } else {
    const name = (s.startsWith('SIG') ? s : `SIG${s}`) as NodeJS.Signals;
    if (name in constants.signals) return name;
  }
  const near = suggest(s.startsWith('SIG') ? s : `SIG${s}`, names);
  throw new UsageError(`unknown signal '${text}'`, near ? `did you mean ${near}?` : 'use a name such as TERM, INT, HUP or KILL');
}

export function signalNumberOf(name: string): number {
  return constants.signals[name as NodeJS.Signals] ?? 0;
}
