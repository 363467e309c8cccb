import { readFileSync } from 'node:fs';

/** USER_HZ: the unit of starttime and CPU times in /proc. It is 100 on every Linux ABI Node supports. */
export const CLOCK_TICKS = 100;

/**
 * Seconds since boot, from /proc/uptime: the clock that /proc/PID/stat's starttime counts in. Stepping
 * the wall clock (date -s, NTP, faketime) moves neither, so every age and "started since" compares
 * ticks with ticks, never with Date.now().
 */
export function uptimeMs(): number {
  return Number(readFileSync('/proc/uptime', 'latin1').split(' ')[0]) * 1000;
}

/** The starttime (in ticks) a process started now would get. */
export function ticksNow(): number {
  return Math.floor((uptimeMs() * CLOCK_TICKS) / 1000);
}

/** How long ago (ms) a process with this starttime started: boot-relative on both sides. */
export function ageMs(starttime: number): number {
  return Math.max(0, uptimeMs() - (starttime * 1000) / CLOCK_TICKS);
}

let bootId: string | undefined;

/** This boot's id: identities, registry rows and runs from another boot never match a live process. */
export function currentBootId(): string {
  if (bootId === undefined) {
    try {
      bootId = readFileSync('/proc/sys/kernel/random/boot_id', 'latin1').trim();
    } catch {
      bootId = '';
    }
  }
  return bootId;
}

let bootMs: number | undefined;

/**
 * Boot time in ms since the epoch, for display only (a wall-clock "started at" next to a process).
 * Never compare it with a ledger time: the wall clock can be stepped.
 */
export function bootTimeMs(): number {
  if (bootMs === undefined) bootMs = Date.now() - uptimeMs();
  return bootMs;
}

/** Converts a starttime in ticks to ms since the epoch, for display. */
export function startedAtMs(starttime: number): number {
  return Math.round(bootTimeMs() + (starttime * 1000) / CLOCK_TICKS);
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

/**
 * Milliseconds on the monotonic clock (CLOCK_MONOTONIC, as performance.now() reads it, from another
 * origin): for deadlines and durations, which a step of the wall clock must not move. Read through
 * process.hrtime: the global `performance` loads perf_hooks and eight modules more on first use (1.5 ms
 * of every corral start).
 */
export function monotonicMs(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}
