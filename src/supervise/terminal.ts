import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';

/**
 * Whether corral runs in the foreground of a terminal: its stdin is a terminal, and its process group
 * is that terminal's foreground group (/proc/self/stat: pgrp is field 5, tty_nr field 7, tpgid field 8).
 * A corral started in the background (`&`), by a script with stdin redirected, or by another program
 * over pipes is not: its job keeps its own session, as before.
 */
export function inTerminalForeground(): boolean {
  if (!isatty(0)) return false;
  try {
    const text = readFileSync('/proc/self/stat', 'utf8');
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    const pgrp = Number(f[2]);
    const ttyNr = Number(f[4]);
    const tpgid = Number(f[5]);
    return ttyNr !== 0 && tpgid > 0 && tpgid === pgrp;
  } catch {
    return false;
  }
}
