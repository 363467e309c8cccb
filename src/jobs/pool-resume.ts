import { UsageError } from '../config/errors.ts';
import { MAX_SLOTS, buildSlots } from '../config/gpu-list.ts';
import { readFlag } from '../config/pool-cli.ts';
import { parseCount, parseDurationValue } from '../config/pool-values.ts';
import type { PoolSpec } from '../config/pool-spec.ts';
import type { Db } from '../ledger/db.ts';
import { jobsOfRun } from '../ledger/jobs.ts';
import { resolveRunRef } from '../ledger/refs.ts';
import { runState } from '../ledger/run-state.ts';
import { findRun, type RunRow } from '../ledger/runs.ts';
import { itemNumberOf, taskKey } from './pool-plan.ts';

/**
 * `--resume RUN|last`: what an earlier pool run (and the runs it resumed in turn) already got done.
 * A pool run's config holds its resolved spec and the run it resumed, so a chain of resumes adds up
 * and `corral pool --resume last` alone can run the same pool again.
 */
export interface PoolRunConfig {
  pool: PoolSpec;
  resumeOf: string | null;
}

export interface ResumeFrom {
  run: RunRow;
  spec: PoolSpec;
  /** taskKey(stage, item number, item) of every task that succeeded in that run or one it resumed */
  done: Set<string>;
}

function lastPoolRun(db: Db): RunRow | undefined {
  return db.prepare("SELECT * FROM runs WHERE kind = 'pool' ORDER BY started_at DESC, id DESC LIMIT 1").get() as RunRow | undefined;
}

function readConfig(run: RunRow): PoolRunConfig | null {
  try {
    const c = JSON.parse(run.config ?? '{}') as Partial<PoolRunConfig>;
    return c.pool ? { pool: c.pool, resumeOf: c.resumeOf ?? null } : null;
  } catch {
    return null;
  }
}

/**
 * The spec as a resume without the pool file runs it again. The ledger keeps only the names of a stage's
 * env (values may be secrets), so the values come from the environment now, and a missing one is an
 * error that says how to give it.
 */
export function specFromLedger(from: ResumeFrom, env = process.env): PoolSpec {
  const missing = new Set<string>();
  const stages = from.spec.stages.map((st) => {
    const names = (st as unknown as { envNames?: string[] }).envNames ?? [];
    const values: Record<string, string> = { ...(st.env ?? {}) };
    for (const n of names) {
      if (env[n] === undefined) missing.add(n);
      else values[n] = env[n]!;
    }
    return { ...st, env: values };
  });
  if (missing.size) {
    const list = [...missing].sort().join(', ');
    throw new UsageError(`run ${from.run.id} set ${list} for its tasks; the ledger keeps no environment values`, `export ${list} before resuming, or give the pool file again: corral pool FILE --resume ${from.run.id}`);
  }
  return { ...from.spec, stages };
}

/** Resolves the run to resume; throws a UsageError (nothing started) when there is none to resume. */
export function findResumeRun(db: Db, ref: string): ResumeFrom {
  const run = ref === 'last' ? lastPoolRun(db) : resolveRunRef(db, ref);
  if (!run) throw new UsageError(ref === 'last' ? 'no earlier pool run to resume' : `no run '${ref}' in the ledger`, 'corral history lists past runs');
  if (run.kind !== 'pool') throw new UsageError(`run ${run.id} is a '${run.kind}' run, not a pool`, 'resume a run started by corral pool');
  // the true status: a row left 'running' by a supervisor that died (lost) can be resumed
  if (runState(run).status === 'running') throw new UsageError(`run ${run.id} is still running (supervisor pid ${run.supervisor_pid})`, `stop it first (corral stop ${run.id}), or wait until it ends`);
  const config = readConfig(run);
  if (!config) throw new UsageError(`run ${run.id} has no pool configuration in the ledger`);
  return { run, spec: config.pool, done: succeededTasks(db, run) };
}

/** Succeeded tasks of a run and of every run it resumed (a cycle or a missing run ends the walk). */
export function succeededTasks(db: Db, run: RunRow): Set<string> {
  const done = new Set<string>();
  const seen = new Set<string>();
  let cur: RunRow | undefined = run;
  while (cur && !seen.has(cur.id)) {
    seen.add(cur.id);
    for (const j of jobsOfRun(db, cur.id)) {
      const n = itemNumberOf(j.name);
      if (j.role === 'task' && j.state === 'succeeded' && j.stage !== null && j.item !== null && n !== null) done.add(taskKey(j.stage, n, j.item));
    }
    const prev: string | null | undefined = readConfig(cur)?.resumeOf;
    cur = prev ? findRun(db, prev) : undefined;
  }
  return done;
}

/** Flags a resume may change: how long, how many at once, how often to retry (not what runs, nor on what). */
export const RESUME_OVERRIDES = ['timeout', 'jobs', 'perGpu', 'retries', 'grace'] as const;
export type ResumeOverrides = Partial<Record<(typeof RESUME_OVERRIDES)[number], string | number>>;

/**
 * The resumed pool with the overrides given on the command line (`--resume last --timeout 2h --jobs 8`):
 * the usual fix for a pool whose tasks timed out, or that ran too few at once. They apply to every stage,
 * and the new run's ledger record holds them, so a later resume keeps them.
 */
export function applyResumeOverrides(spec: PoolSpec, o: ResumeOverrides): PoolSpec {
  const gpuPool = spec.gpus.length > 0;
  if (o.jobs !== undefined && gpuPool) throw new UsageError(`--jobs: the resumed pool runs on GPUs ${spec.gpus.join(',')}, found --jobs`, 'give --per-gpu N to change how many tasks run at once on each GPU');
  if (o.perGpu !== undefined && !gpuPool) throw new UsageError('--per-gpu: the resumed pool is CPU-only, found --per-gpu', 'give --jobs N to change how many tasks run at once');
  const out: PoolSpec = { ...spec, stages: spec.stages.map((s) => ({ ...s })) };
  const jobs = readFlag('--jobs', o.jobs, (v) => parseCount(v, 1, MAX_SLOTS));
  if (jobs !== undefined) out.slots = readFlag('--jobs', 0, () => buildSlots([], 1, jobs))!;
  const perGpu = readFlag('--per-gpu', o.perGpu, (v) => parseCount(v, 1, MAX_SLOTS));
  if (perGpu !== undefined) {
    out.perGpu = perGpu;
    out.slots = readFlag('--per-gpu', 0, () => buildSlots(spec.gpus, perGpu, 0))!;
  }
  const timeoutMs = readFlag('--timeout', o.timeout, (v) => parseDurationValue(v, false));
  const retries = readFlag('--retries', o.retries, (v) => parseCount(v, 0));
  const graceMs = readFlag('--grace', o.grace, (v) => parseDurationValue(v, true));
  if (graceMs !== undefined) out.graceMs = graceMs;
  for (const st of out.stages) {
    if (timeoutMs !== undefined) st.timeoutMs = timeoutMs;
    if (retries !== undefined) st.retries = retries;
    if (graceMs !== undefined) st.graceMs = graceMs;
  }
  return out;
}
