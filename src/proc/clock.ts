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

let pageBytes: number | undefined;

/** The page size, derived from this process's own RSS in pages (stat) and in kB (status). */
export function pageSize(): number {
  if (pageBytes === undefined) {
    try {
      const pages = Number(readFileSync('/proc/self/statm', 'latin1').split(' ')[1]);
      const kb = Number(/VmRSS:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'latin1'))?.[1]);
      const guess = (kb * 1024) / pages;
      // round to a power of two: the two reads are not atomic
      pageBytes = 2 ** Math.round(Math.log2(guess));
    } catch {
      pageBytes = 4096;
    }
  }
  return pageBytes;
}
