/** A figure as the tables show it: the median of repeated runs with the smallest and largest. */
export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function summarize(values: number[]): Spread {
  if (!values.length) return { median: NaN, min: NaN, max: NaN, n: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  const median = s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
  return { median, min: s[0]!, max: s[s.length - 1]!, n: s.length };
}

/** Rounds to a precision that suits the size of the number, so tables stay readable. */
export function formatNumber(x: number): string {
  if (!Number.isFinite(x)) return '—';
  const a = Math.abs(x);
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : a >= 1 ? 2 : 3;
  return x.toFixed(digits);
}

/** Whole numbers as they are (a median of an even count may end in .5). */
export function formatCount(x: number): string {
  return Number.isInteger(x) ? String(x) : x.toFixed(1);
}

/** "median (min–max)", or just the median when every run agreed. */
export function formatSpread(s: Spread, unit = '', fmt: (x: number) => string = formatNumber): string {
  if (!s.n) return '—';
  const m = `${fmt(s.median)}${unit}`;
  return s.min === s.max ? m : `${m} (${fmt(s.min)}–${fmt(s.max)})`;
}

/** a / b as "1.23x", for the goal columns. */
export function formatRatio(a: number, b: number): string {
  return Number.isFinite(a / b) && b > 0 ? `${(a / b).toFixed(2)}x` : '—';
}

/** Runs tasks with at most `width` in flight, keeping the results in order. */
export async function runInParallel<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(width, tasks.length) }, worker));
  return out;
}
