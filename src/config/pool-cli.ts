import { resolve } from 'node:path';
import { formatDuration } from './duration.ts';
import { UsageError } from './errors.ts';
import { MAX_SLOTS, buildSlots, parseGpuList } from './gpu-list.ts';
import { buildItems, readItemsFile, refuseNul } from './items.ts';
import {
  DEFAULT_BACKOFF_MS,
  DEFAULT_GRACE_MS,
  DEFAULT_PREFLIGHT,
  DEFAULT_STAGE_NAME,
  DEFAULT_STOP_SIGNAL,
  type PoolSpec,
  type StageCommand,
} from './pool-spec.ts';
import { parseCount, parseDurationValue, parseHalt, parseMemSize, parsePreflight, parseSignalValue } from './pool-values.ts';
import { checkTemplate, listPlaceholders } from './template.ts';
import { MIN_LOG_MAX, parseSize } from './size.ts';

/**
 * A one-stage pool from the command line:
 *   corral pool --gpus 0-3 --per-gpu 2 [--timeout 1h] [--retries 2] -- python sample.py --ckpt {} ::: a.pt b.pt
 * Items come after `:::` or from `--items FILE` (text, or JSONL by extension). One word after `--` is a
 * shell command (`-- 'python s.py {} > {#}.log'`), several are the argv. As with GNU parallel and xargs,
 * a command without any placeholder gets the item appended as its last argument.
 */
export interface PoolCliOptions {
  name?: string;
  gpus?: string;
  perGpu?: string | number;
  jobs?: string | number;
  timeout?: string;
  retries?: string | number;
  backoff?: string;
  backoffMax?: string;
  stopSignal?: string;
  grace?: string;
  halt?: string;
  preflight?: string;
  minFreeMem?: string;
  /** items file, relative to cwd */
  items?: string;
  logMax?: string;
  /** where tasks run and relative paths start; default process.cwd() */
  cwd?: string;
}

const SEPARATOR = ':::';

/** Runs a value parser for a flag; its "expected ..., found ..." error is prefixed with the flag. */
export function readFlag<T>(flag: string, value: string | number | undefined, fn: (v: string | number) => T): T | undefined {
  if (value === undefined) return undefined;
  try {
    return fn(value);
  } catch (err) {
    if (err instanceof UsageError) throw new UsageError(`${flag}: ${err.message}`, err.hint);
    throw err;
  }
}

function splitArgv(argv: string[]): { command: string[]; inline: string[] | null } {
  const at = argv.indexOf(SEPARATOR);
  if (argv.includes('::::')) throw new UsageError('expected items after :::, found ::::', 'read items from a file with --items FILE');
  if (at < 0) return { command: argv, inline: null };
  const inline = argv.slice(at + 1);
  if (inline.includes(SEPARATOR)) throw new UsageError('expected one ::: list of items, found several', 'corral does not combine item lists');
  return { command: argv.slice(0, at), inline };
}

function buildCommand(words: string[]): StageCommand {
  if (words.length === 0) throw new UsageError('expected a command after --, found none', 'corral pool --gpus 0-3 -- python sample.py --ckpt {} ::: a.pt b.pt');
  const bare = words.every((w) => listPlaceholders(w).length === 0);
  if (words.length === 1) return { kind: 'shell', script: bare ? `${words[0]} {}` : words[0]! };
  return { kind: 'argv', argv: bare ? [...words, '{}'] : words };
}

export function buildCliPool(opts: PoolCliOptions, argv: string[]): PoolSpec {
  const cwd = resolve(opts.cwd ?? process.cwd());
  if (opts.jobs !== undefined && opts.perGpu !== undefined) throw new UsageError('--per-gpu: expected either --gpus with --per-gpu, or --jobs, found both --per-gpu and --jobs');
  if (opts.jobs !== undefined && opts.gpus !== undefined) throw new UsageError('--jobs: expected either --gpus (GPU pool) or --jobs (CPU-only pool), found both');
  if (opts.jobs === undefined && opts.gpus === undefined) throw new UsageError('expected --gpus (e.g. 0-3) or --jobs N, found neither');
  const gpus = readFlag('--gpus', opts.gpus, (v) => parseGpuList(String(v))) ?? [];
  const perGpu = readFlag('--per-gpu', opts.perGpu, (v) => parseCount(v, 1, MAX_SLOTS)) ?? 1;
  const jobs = readFlag('--jobs', opts.jobs, (v) => parseCount(v, 1, MAX_SLOTS)) ?? 0;
  const slots = readFlag(gpus.length ? '--per-gpu' : '--jobs', 0, () => buildSlots(gpus, perGpu, jobs))!;
  const graceMs = readFlag('--grace', opts.grace, (v) => parseDurationValue(v, true)) ?? DEFAULT_GRACE_MS;
  const backoffMs = readFlag('--backoff', opts.backoff, (v) => parseDurationValue(v, true)) ?? DEFAULT_BACKOFF_MS;
  const backoffMaxMs = readFlag('--backoff-max', opts.backoffMax, (v) => parseDurationValue(v, true)) ?? null;
  if (backoffMaxMs !== null && backoffMaxMs < backoffMs) throw new UsageError(`--backoff-max: expected at least --backoff (${formatDuration(backoffMs)}), found '${opts.backoffMax}'`);

  const { command, inline } = splitArgv(argv);
  const run = buildCommand(command);
  if (inline && opts.items !== undefined) throw new UsageError('expected items after ::: or from --items, found both');
  if (!inline && opts.items === undefined) throw new UsageError('expected items after ::: or --items FILE, found neither');
  const items = inline ? buildItems(inline) : readFlag('--items', opts.items, (v) => readItemsFile(v === '-' ? '-' : resolve(cwd, String(v))))!;
  if (items.length === 0) throw new UsageError(`expected at least one item, found none ${inline ? 'after :::' : `in ${opts.items}`}`);
  for (const tpl of run.kind === 'shell' ? [run.script] : run.argv) {
    readFlag('the command', 0, () => refuseNul('the command', tpl));
    const bad = checkTemplate(tpl, items, gpus.length > 0, run.kind === 'shell');
    if (bad) throw new UsageError(`the command: ${bad.message}`, bad.hint);
  }

  return {
    name: opts.name ?? null,
    source: null,
    cwd,
    gpus,
    perGpu,
    slots,
    halt: readFlag('--halt', opts.halt, (v) => parseHalt(String(v))) ?? { mode: 'never' },
    preflight: readFlag('--preflight', opts.preflight, (v) => parsePreflight(String(v))) ?? DEFAULT_PREFLIGHT,
    minFreeMemBytes: readFlag('--min-free-mem', opts.minFreeMem, parseMemSize) ?? null,
    graceMs,
    logMaxBytes: readFlag('--log-max', opts.logMax, (v) => parseSize(String(v), '--log-max', MIN_LOG_MAX)) ?? null,
    items,
    stages: [
      {
        name: DEFAULT_STAGE_NAME,
        needs: [],
        run,
        cwd,
        env: {},
        timeoutMs: readFlag('--timeout', opts.timeout, (v) => parseDurationValue(v, false)) ?? null,
        retries: readFlag('--retries', opts.retries, (v) => parseCount(v, 0)) ?? 0,
        backoffMs,
        backoffMaxMs,
        stopSignal: readFlag('--stop-signal', opts.stopSignal, parseSignalValue) ?? DEFAULT_STOP_SIGNAL,
        graceMs,
      },
    ],
  };
}
