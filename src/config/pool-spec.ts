/**
 * The fully resolved pool: what `corral pool` runs, whether it came from a YAML file (pool-file.ts) or
 * from the command line (pool-cli.ts). Everything here is already validated and normalised: durations
 * are milliseconds, signals canonical names, paths absolute, stages in dependency order. The scheduler
 * never has to re-check or re-parse any of it.
 */

/** keep going (never), or stop starting tasks (soon) / stop running ones too (now) after N failures */
export type HaltPolicy = { mode: 'never' } | { mode: 'soon' | 'now'; failures: number };

/** what to do when the GPU of a slot is busy with someone else's processes before a task starts there */
export type PreflightPolicy = 'ignore' | 'warn' | 'wait' | 'reap' | 'fail';

export const PREFLIGHT_POLICIES: readonly PreflightPolicy[] = ['ignore', 'warn', 'wait', 'reap', 'fail'];

/** One unit of work. A stage runs once per item; `{}` renders `value`, `{field}` renders `fields[field]`. */
export interface PoolItem {
  /** 0-based position in the item list; `{#}` renders index + 1 */
  index: number;
  /** the item as text: a line of a text file, an inline scalar, or the compact JSON of an object item */
  value: string;
  /** the entries of an object item (JSONL line or inline mapping) as text; empty for plain items */
  fields: Record<string, string>;
}

/** A place where one task runs at a time. Slots are interleaved over GPUs: 0,1,0,1 for 2 GPUs x 2. */
export interface PoolSlot {
  index: number;
  /** the GPU index given to the task as CUDA_VISIBLE_DEVICES / CORRAL_GPU; null in a CPU-only pool */
  gpu: number | null;
}

/** A string runs through `sh -c` (placeholders are shell-quoted); a list is the argv itself. */
export type StageCommand = { kind: 'shell'; script: string } | { kind: 'argv'; argv: string[] };

export interface PoolStage {
  name: string;
  /** stages that must have succeeded for the same item before this one starts for it */
  needs: string[];
  run: StageCommand;
  /** absolute working directory of the task */
  cwd: string;
  /** extra environment, pool-level entries overridden by stage-level ones */
  env: Record<string, string>;
  /** per attempt; null means no limit */
  timeoutMs: number | null;
  /** attempts after the first one that failed */
  retries: number;
  /** delay before the first retry; doubles each retry, capped by backoffMaxMs when set */
  backoffMs: number;
  backoffMaxMs: number | null;
  stopSignal: NodeJS.Signals;
  graceMs: number;
}

export interface PoolSpec {
  name: string | null;
  /** absolute path of the pool file; null for a pool given on the command line */
  source: string | null;
  /** absolute directory tasks run in unless a stage says otherwise */
  cwd: string;
  /** distinct GPU indexes in the order given; empty for a CPU-only pool */
  gpus: number[];
  /** tasks at once per GPU (1 in a CPU-only pool) */
  perGpu: number;
  slots: PoolSlot[];
  halt: HaltPolicy;
  preflight: PreflightPolicy;
  /** preflight also requires this much free memory on the slot's GPU; null means no requirement */
  minFreeMemBytes: number | null;
  /** default grace between the stop signal and SIGKILL; each stage carries its own copy */
  graceMs: number;
  /** cap of each task's log file (rotated past it, newest output kept); absent: the default 100 MiB */
  logMaxBytes?: number | null;
  items: PoolItem[];
  /** topological order: every stage comes after the stages it needs, otherwise in the order given */
  stages: PoolStage[];
}

export const DEFAULT_GRACE_MS = 10_000;
export const DEFAULT_BACKOFF_MS = 1_000;
export const DEFAULT_STOP_SIGNAL: NodeJS.Signals = 'SIGTERM';
export const DEFAULT_PREFLIGHT: PreflightPolicy = 'warn';
/** the name of the only stage of a pool that does not name it (always so on the command line) */
export const DEFAULT_STAGE_NAME = 'task';

/** The delay before retry number `retry` (1-based): backoff, doubled each retry, capped at backoff_max. */
export function computeRetryDelay(stage: Pick<PoolStage, 'backoffMs' | 'backoffMaxMs'>, retry: number): number {
  const delay = stage.backoffMs * 2 ** Math.max(0, retry - 1);
  return stage.backoffMaxMs === null ? delay : Math.min(delay, stage.backoffMaxMs);
}
