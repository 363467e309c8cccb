import { UsageError } from '../config/errors.ts';
import type { Db } from './db.ts';
import { getJob, jobsOfRun, type JobRow } from './jobs.ts';
import { getRun, type RunRow } from './runs.ts';

/*
 * The one grammar every command uses to name a run or a job:
 *   last              the newest run
 *   ID                a run id, or a prefix of one that names exactly one run
 *   NAME              a run's --name: the newest run of that name; ambiguous while several of them are running
 *   RUN.JOB           a job of a run named by any of the above (last.main, last.sample.3, 2026.sidecar1),
 *                     or a full job id
 * An unknown reference, or one that could mean more than one run or job, is a usage error that names
 * the candidates: a command never guesses which run it acts on.
 */

export interface ResolvedRef {
  run: RunRow;
  /** the job, when the reference named one */
  job: JobRow | null;
}

type RunMatch = { kind: 'one'; run: RunRow } | { kind: 'none' } | { kind: 'many'; runs: RunRow[]; why: string };

const SHOWN = 8;
const HINT = "references: last, a run id or a unique prefix of one, a run's --name, or RUN.JOB (last.main, last.sample.3); corral history lists runs";

/** What one text means as a run reference (no job part). */
export function matchRun(db: Db, ref: string): RunMatch {
  if (!ref) return { kind: 'none' };
  if (ref === 'last') {
    const run = db.prepare('SELECT * FROM runs ORDER BY started_at DESC, id DESC LIMIT 1').get() as RunRow | undefined;
    return run ? { kind: 'one', run } : { kind: 'none' };
  }
  const exact = getRun(db, ref);
  if (exact) return { kind: 'one', run: exact };
  // substr, not LIKE: a reference may contain % or _
  const byPrefix = db.prepare('SELECT * FROM runs WHERE substr(id, 1, ?) = ? ORDER BY started_at DESC, id DESC LIMIT ?').all(ref.length, ref, SHOWN + 1) as unknown as RunRow[];
  if (byPrefix.length === 1) return { kind: 'one', run: byPrefix[0]! };
  const byName = db.prepare('SELECT * FROM runs WHERE name = ? ORDER BY started_at DESC, id DESC').all(ref) as unknown as RunRow[];
  if (byName.length) {
    const running = byName.filter((r) => r.status === 'running');
    if (running.length > 1) return { kind: 'many', runs: running, why: `${running.length} running runs are named '${ref}'` };
    return { kind: 'one', run: byName[0]! };
  }
  if (byPrefix.length > 1) return { kind: 'many', runs: byPrefix, why: `it is the start of ${byPrefix.length > SHOWN ? `more than ${SHOWN}` : byPrefix.length} run ids` };
  return { kind: 'none' };
}

function describeRun(r: RunRow): string {
  return `${r.id}${r.name ? ` (${r.name})` : ''} ${r.status}`;
}

function listOf(items: string[]): string {
  const shown = items.slice(0, SHOWN).join(', ');
  return items.length > SHOWN ? `${shown} and ${items.length - SHOWN} more` : shown;
}

function ambiguous(ref: string, why: string, candidates: string[]): UsageError {
  return new UsageError(`'${ref}' is ambiguous: ${why}: ${listOf(candidates)}`, 'give more of the id, or the full run or job id (corral history lists them)');
}

/** Every way the text reads as RUN.JOB: each dot may end the run part, since job names (sample.3) and run names may hold dots. */
function jobReadings(db: Db, ref: string): { found: ResolvedRef[]; ambiguousRun?: { part: string; m: Extract<RunMatch, { kind: 'many' }> }; jobless?: { run: RunRow; name: string } } {
  const out: ReturnType<typeof jobReadings> = { found: [] };
  const exact = getJob(db, ref);
  if (exact) {
    const run = getRun(db, exact.run_id);
    if (run) out.found.push({ run, job: exact });
  }
  for (let i = ref.indexOf('.'); i > 0; i = ref.indexOf('.', i + 1)) {
    const part = ref.slice(0, i);
    const name = ref.slice(i + 1);
    if (!name) continue;
    const m = matchRun(db, part);
    if (m.kind === 'many') out.ambiguousRun ??= { part, m };
    if (m.kind !== 'one') continue;
    const job = jobsOfRun(db, m.run.id).find((j) => j.name === name);
    if (job && !out.found.some((f) => f.job?.id === job.id)) out.found.push({ run: m.run, job });
    else if (!job) out.jobless ??= { run: m.run, name };
  }
  return out;
}

/**
 * Resolves a run or job reference, or throws a UsageError (exit 2) naming the problem and, when the
 * reference is ambiguous, the candidates. `want` says what the command takes: a run only, a job only, or either.
 */
export function resolveRef(db: Db, ref: string, want: 'run' | 'job' | 'either' = 'either'): ResolvedRef {
  const text = ref.trim();
  if (!text) throw new UsageError('the run or job reference is empty', HINT);
  const asRun = want === 'job' ? ({ kind: 'none' } as RunMatch) : matchRun(db, text);
  const jobs = want === 'run' && asRun.kind === 'one' ? { found: [] } : jobReadings(db, text);
  const readings: ResolvedRef[] = [...(asRun.kind === 'one' ? [{ run: asRun.run, job: null }] : []), ...jobs.found];
  if (readings.length === 1) {
    const only = readings[0]!;
    if (want === 'run' && only.job) throw new UsageError(`'${text}' names job ${only.job.id}, not a run`, `give the run: ${only.run.id}`);
    return only;
  }
  if (readings.length > 1) {
    throw ambiguous(text, 'it reads as more than one run or job', readings.map((r) => (r.job ? `job ${r.job.id}` : `run ${describeRun(r.run)}`)));
  }
  if (asRun.kind === 'many') throw ambiguous(text, asRun.why, asRun.runs.map(describeRun));
  if (jobs.ambiguousRun) throw ambiguous(jobs.ambiguousRun.part, jobs.ambiguousRun.m.why, jobs.ambiguousRun.m.runs.map(describeRun));
  if (jobs.jobless && want !== 'run') {
    const names = jobsOfRun(db, jobs.jobless.run.id).map((j) => j.name);
    throw new UsageError(`run ${jobs.jobless.run.id} has no job '${jobs.jobless.name}'`, names.length ? `its jobs: ${listOf(names)}` : 'it has no jobs yet');
  }
  const what = want === 'run' ? 'run' : want === 'job' ? 'job' : 'run or job';
  throw new UsageError(`no ${what} '${text}' in the ledger`, HINT);
}

export function resolveRunRef(db: Db, ref: string): RunRow {
  return resolveRef(db, ref, 'run').run;
}

export function resolveJobRef(db: Db, ref: string): { run: RunRow; job: JobRow } {
  const r = resolveRef(db, ref, 'job');
  return { run: r.run, job: r.job! };
}

/** A --run flag resolved to the full run id (an unknown or ambiguous one exits 2); empty is left to the flag's own check. */
export function resolveRunFlag(db: Db, ref: string | undefined): string | undefined {
  return ref === undefined || !ref.trim() ? ref : resolveRunRef(db, ref).id;
}
