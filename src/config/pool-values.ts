import { constants } from 'node:os';
import { DurationTooLongError, parseDuration } from './duration.ts';
import { UsageError, suggest } from './errors.ts';
import { PREFLIGHT_POLICIES, type HaltPolicy, type PreflightPolicy } from './pool-spec.ts';
import { NonStoppingSignalError, parseSignal } from './signals.ts';

/**
 * Value parsers shared by the pool file and the pool flags. Each throws a UsageError whose message
 * reads "expected ..., found ..."; the caller puts the file position and key (or the flag) in front.
 */

function quoteFound(value: string | number): string {
  return typeof value === 'number' ? String(value) : `'${value}'`;
}

/**
 * An integer of at least `min` (and at most `max`), from a YAML number or a flag's text. Other commands'
 * counts (history --limit) use it too: `parseCount(flags.limit, 1, 1_000_000)`.
 */
export function parseCount(value: string | number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  const n = typeof value === 'number' ? value : /^\s*-?\d+\s*$/.test(value) ? Number(value) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    if (!Number.isSafeInteger(n) && Number.isInteger(n)) throw new UsageError(`expected a whole number of at most ${max}, found ${quoteFound(value)}`);
    const range = n > max && Number.isSafeInteger(n) ? `of at most ${max}` : `of at least ${min}`;
    throw new UsageError(`expected a whole number ${range}, found ${quoteFound(value)}`);
  }
  return n;
}

/** A duration in ms; zero only where `allowZero` (grace, backoff), never for a timeout. */
export function parseDurationValue(value: string | number, allowZero: boolean): number {
  let ms: number;
  try {
    ms = parseDuration(String(value));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err instanceof DurationTooLongError) throw new UsageError(`expected a duration of at most 3650d (about 10 years), found ${quoteFound(value)}`);
    throw new UsageError(`expected a duration such as 500ms, 90s, 10m or 1h30m, found ${quoteFound(value)}`, err.hint);
  }
  if (ms === 0 && !allowZero) throw new UsageError(`expected a duration above zero, found ${quoteFound(value)}`);
  return ms;
}

export function parseSignalValue(value: string | number): NodeJS.Signals {
  try {
    return parseSignal(String(value));
  } catch (err) {
    if (!(err instanceof UsageError) || err instanceof NonStoppingSignalError) throw err;
    // a swapped pair of letters (TREM) is the likeliest typo, and plain edit distance ties it with others (TRAP)
    const sig = `SIG${String(value).trim().toUpperCase().replace(/^SIG/, '')}`;
    const swapped = Object.keys(constants.signals).find((n) => n.length === sig.length && [...n].sort().join('') === [...sig].sort().join(''));
    const near = swapped ? ` (did you mean ${swapped}?)` : err.hint?.startsWith('did you mean') ? ` (${err.hint})` : '';
    throw new UsageError(`expected a signal such as TERM, INT, HUP or KILL, found ${quoteFound(value)}${near}`);
  }
}

export function parseHalt(value: string): HaltPolicy {
  const text = value.trim();
  if (text === 'never') return { mode: 'never' };
  const m = /^(soon|now)-after:\s*(\d+)$/.exec(text);
  if (m && Number(m[2]) >= 1) return { mode: m[1] as 'soon' | 'now', failures: Number(m[2]) };
  const hint = /^(soon|now)-after$/.test(text) ? 'give a number of failures, e.g. soon-after:3' : undefined;
  throw new UsageError(`expected never, soon-after:N or now-after:N (N at least 1), found '${value}'`, hint);
}

export function parsePreflight(value: string): PreflightPolicy {
  const text = value.trim() as PreflightPolicy;
  if (PREFLIGHT_POLICIES.includes(text)) return text;
  const near = suggest(text, PREFLIGHT_POLICIES);
  throw new UsageError(`expected one of ${PREFLIGHT_POLICIES.join(', ')}, found '${value}'${near ? ` (did you mean ${near}?)` : ''}`);
}

const SIZE_UNITS: Record<string, number> = {
  b: 1, k: 2 ** 10, kib: 2 ** 10, m: 2 ** 20, mib: 2 ** 20, g: 2 ** 30, gib: 2 ** 30, t: 2 ** 40, tib: 2 ** 40,
  kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12,
};

/** 512MiB, 2GiB, 1.5G (binary), 2GB (decimal). A unit is required: a bare 2048 could mean anything. */
export function parseMemSize(value: string | number): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$/i.exec(String(value));
  const unit = m ? SIZE_UNITS[m[2]!.toLowerCase()] : undefined;
  if (!m || unit === undefined) {
    const hint = /^\s*\d+(\.\d+)?\s*$/.test(String(value)) ? 'add a unit, e.g. 2048MiB' : undefined;
    throw new UsageError(`expected a memory size such as 512MiB or 2GiB, found ${quoteFound(value)}`, hint);
  }
  const bytes = Math.round(Number(m[1]) * unit);
  if (bytes <= 0) throw new UsageError(`expected a memory size above zero, found ${quoteFound(value)}`);
  return bytes;
}

export function parseStageName(value: string): string {
  if (/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(value)) return value;
  throw new UsageError(`expected a stage name of letters, digits, '.', '_' and '-', found '${value}'`);
}

/** Variables corral sets for every task; a pool may not override them. */
export const RESERVED_ENV = ['CUDA_VISIBLE_DEVICES', 'CORRAL_GPU', 'CORRAL_RUN_ID', 'CORRAL_JOB_ID'];

export function parseEnvName(name: string): string {
  if (RESERVED_ENV.includes(name)) throw new UsageError(`expected a variable corral does not set, found ${name}`, `corral sets ${RESERVED_ENV.join(', ')} for each task`);
  if (/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return name;
  throw new UsageError(`expected an environment variable name, found '${name}'`);
}
