import { UsageError } from './errors.ts';

const UNITS: Record<string, number> = { '': 1, b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/** The smallest cap that still holds a useful tail of a log (a few screens of output). */
export const MIN_LOG_MAX = 4096;

/**
 * Reads a size like `100M`, `512KiB`, `1g` or `65536`: binary units (K = 1024), as du, ls -h and GNU
 * tools mean them; a trailing `B`/`iB` is allowed. `what` names the option in the error.
 */
export function parseSize(text: string, what: string, min = 1): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kmg]?)(?:i?b)?\s*$/i.exec(text);
  const hint = `write a size like 100M, 512K or 1G (binary units: K = 1024 bytes), at least ${formatSize(min)}`;
  if (!m) throw new UsageError(`invalid ${what} '${text}'`, hint);
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!);
  if (!Number.isSafeInteger(bytes) || bytes < min) throw new UsageError(`${what} '${text}' is out of range`, hint);
  return bytes;
}

export function formatSize(bytes: number): string {
  for (const [unit, n] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes >= n && bytes % n === 0) return `${bytes / n} ${unit}`;
  }
  return bytes >= 1024 ** 2 ? `${(bytes / 1024 ** 2).toFixed(1)} MiB` : `${bytes} bytes`;
}
