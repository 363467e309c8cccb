import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * The longest duration corral accepts: 3650 days (about 10 years, 3.15e11 ms). Anything longer is a typo,
 * not a plan; the bound keeps every deadline (monotonicMs() + ms) an exact integer far below
 * Number.MAX_SAFE_INTEGER, and rejects what would overflow to Infinity. Long timers are chained
 * (src/supervise/long-timer.ts), so every duration up to this one really waits that long.
 */
export const MAX_DURATION_MS = 3650 * 86_400_000;

/** A duration that parses but is longer than MAX_DURATION_MS (or not finite). */
export class DurationTooLongError extends UsageError {}

/** Parses 500ms, 90s, 10m, 2h, 1d, 1h30m; a bare number means seconds. Returns milliseconds. */
export function parseDuration(text: string, what = 'duration'): number {
  const s = String(text).trim();
  if (/^\d+(\.\d+)?$/.test(s)) return checkRange(Math.round(Number(s) * 1000), text, what);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy;
  let total = 0;
  let matched = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(s))) {
    total += Number(m[1]) * UNITS[m[2]!]!;
    matched = re.lastIndex;
  }
  if (!s || matched !== s.length) {
    throw new UsageError(`invalid ${what} '${text}'`, 'write durations like 500ms, 90s, 10m, 2h or 1h30m');
  }
  return checkRange(Math.round(total), text, what);
}

function checkRange(ms: number, text: string, what: string): number {
  if (Number.isFinite(ms) && ms <= MAX_DURATION_MS) return ms;
  throw new DurationTooLongError(`${what} '${text}' is longer than the most corral accepts (3650d, about 10 years)`, 'give a duration of at most 3650d');
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const s = ms / 1000;
  if (s < 60) return `${s < 10 ? s.toFixed(1) : Math.round(s)}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(Math.floor(s % 60)).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h}h${String(m % 60).padStart(2, '0')}m`;
  return `${Math.floor(h / 24)}d${String(h % 24).padStart(2, '0')}h`;
}
