import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of starttime and CPU times in /proc. It is 100 on every Linux ABI Node supports. */
export const CLOCK_TICKS = 100;

let bootMs: number | undefined;

/** Boot time in ms since the epoch, from /proc/stat btime (whole seconds) refined with /proc/uptime. */
export function bootTimeMs(): number {
  if (bootMs === undefined) {
    const uptime = Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]);
    bootMs = Date.now() - uptime * 1000;
  }
  return bootMs;
}

/** Converts a starttime in ticks to ms since the epoch. */
export function startedAtMs(starttime: number): number {
  return Math.round(bootTimeMs() + (starttime * 1000) / CLOCK_TICKS);
}

/** The starttime (in ticks) a process started now would get, minus a margin for rounding. */
export function ticksNow(): number {
  return Math.floor(((Date.now() - bootTimeMs()) * CLOCK_TICKS) / 1000);
}
