import { constants } from 'node:os';
import { UsageError, suggest } from './errors.ts';

/** Accepts TERM, SIGTERM, sigterm or 15; returns the canonical name. */
export function parseSignal(text: string): NodeJS.Signals {
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
