import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { UsageError } from '../config/errors.ts';
import { buildCliPool, type PoolCliOptions } from '../config/pool-cli.ts';
import { loadPoolFile } from '../config/pool-file.ts';
import type { PoolSpec } from '../config/pool-spec.ts';
import type { ResumeFrom } from '../jobs/pool-resume.ts';
import { ledgerPath } from '../ledger/location.ts';
import { printJson, say } from './output.ts';
// Both read (and remove) what the environment says about this corral before any task's environment is built.
import { announceDetached, isDetachedSupervisor } from '../supervise/detach.ts';
import '../supervise/signals.ts';
import { prepareSlurmPool, type SlurmPoolFlags } from '../slurm/pool-slurm.ts';

interface PoolFlags extends PoolCliOptions, SlurmPoolFlags {
  resume?: string;
  json?: boolean;
  quiet?: boolean;
  tag?: boolean;
  lineBuffer?: boolean;
  detach?: boolean;
}

/** Flags that describe a command-line pool; a pool file sets the same things itself. */
const SPEC_FLAGS: (keyof PoolCliOptions)[] = ['name', 'gpus', 'perGpu', 'jobs', 'timeout', 'retries', 'backoff', 'backoffMax', 'stopSignal', 'grace', 'halt', 'preflight', 'minFreeMem', 'items', 'logMax'];
const flagName = (k: string) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

export function register(program: Command): void {
  program
    .command('pool')
    .description('run many tasks over GPU slots (or CPU slots), stage by stage, with retries, resume and a live progress display')
    .argument('[args...]', 'a pool file (FILE.yaml), or the command, then ::: and the items (after --)')
    .option('--gpus <list>', 'GPUs to spread tasks over: 0,1 or 0-3')
    .option('--per-gpu <n>', 'tasks at once on each GPU (default 1)')
    .option('--jobs <n>', 'tasks at once in a CPU-only pool (instead of --gpus)')
    .option('--items <file>', 'items from a file: one per line, or JSON lines (.jsonl)')
    .option('--log-max <size>', "cap of each task's log, like 100M or 1G (default 100M); past it the log rotates to NAME.log.1")
    .option('--name <name>', 'a name for the run, shown in ps and history')
    .option('--timeout <dur>', 'stop an attempt after this long')
    .option('--retries <n>', 'attempts after a failed one (default 0)')
    .option('--backoff <dur>', 'wait before the first retry, doubling each retry (default 1s)')
    .option('--backoff-max <dur>', 'longest wait between retries')
    .option('--stop-signal <sig>', 'signal that asks a task to stop (default TERM)')
    .option('--grace <dur>', 'time between the stop signal and SIGKILL (default 10s)')
    .option('--halt <policy>', 'never (default), soon-after:N (start nothing new after N failures), now-after:N (also stop running tasks)')
    .option('--preflight <policy>', 'when a GPU is in use by processes not of this pool before a task starts there: ignore, warn (default), wait, reap (its strays, as corral strays --gpu N lists them, then wait) or fail')
    .option('--min-free-mem <size>', 'preflight also wants this much free GPU memory (e.g. 4GiB)')
    .option('--resume <run>', "run only the tasks of an earlier pool run (id, prefix, name or 'last') that did not succeed; --timeout, --jobs, --per-gpu, --retries and --grace given with it change the resumed pool")
    .option('--json', 'print the result of every task as JSON on stdout')
    .option('-q, --quiet', 'no progress display, only the summary')
    .option('--line-buffer', "also pass each task's output on to corral's stdout/stderr, whole lines at a time (as GNU parallel)")
    .option('--tag', 'as --line-buffer, each line prefixed with its item (and stage) and a TAB')
    .option('--slurm', 'submit each task to Slurm (sbatch, one job per attempt) instead of running it here; see docs/slurm.md')
    .option('--partition <p>', 'with --slurm: the partition to submit to')
    .option('--account <a>', 'with --slurm: the account to charge')
    .option('--slurm-arg <arg>', 'with --slurm: one more sbatch argument, e.g. --slurm-arg=--mem=8G (repeatable)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--detach', 'start the pool in the background, in its own session, print its run id and return (see corral logs, ps, stop)')
    .addHelpText('after', `
Examples:
  corral pool examples/pool.yaml                     stages, retries and items from a file
  corral pool --gpus 0-3 --per-gpu 2 -- python3 sample.py --ckpt {} ::: a.pt b.pt c.pt
  corral pool --jobs 8 --timeout 10m --retries 2 --items ckpts.txt -- 'python3 eval.py {} > out/{#}.json'
  corral pool --resume last                          run again what did not succeed last time

Placeholders: {} the item, {#} its number, {gpu} the slot's GPU, {field} a field of a JSON-lines item.
A pool file's keys (every one with its default: docs/pool-file.md; schema for editors: schema/pool.schema.json):
  name  gpus (GPU indexes: 0-3, [0, 1]; gpus: 2 is refused, write [2] or 0-1)  per_gpu  jobs (CPU-only)
  halt  preflight  min_free_mem  grace  log_max  cwd  env  items (a list, or {file: PATH, format: text|jsonl})
  stages: name  run  needs  timeout  retries  backoff  backoff_max  stop_signal  grace  cwd  env
An item may repeat ({#} tells the copies apart).
Each task gets CUDA_VISIBLE_DEVICES and CORRAL_GPU, its own log (corral logs RUN), and its result is in the
ledger before its slot is reused. Ctrl-C stops starting tasks and stops the running ones (again: kill at
once); the run is then 'interrupted' and --resume picks it up. Exit status: 0 when every task succeeded,
1 when any failed, was skipped or the pool halted, 130/143 when interrupted, 2 for a bad pool file or flag.`)
    .action(async (args: string[], flags: PoolFlags) => {
      if (flags.detach && flags.json) throw new UsageError('--json prints the result when the pool ends, and --detach returns at once', 'drop --json, and read the result later with corral history');
      if ((flags.tag || flags.lineBuffer) && flags.json) throw new UsageError(`${flags.tag ? '--tag' : '--line-buffer'} passes the tasks' output on to stdout, where --json writes the result`, 'drop one of them; each task keeps its log either way (corral logs RUN)');
      const { spec, resume } = await resolvePool(args, flags);
      const slurm = prepareSlurmPool(flags);
      if (flags.detach && !isDetachedSupervisor()) {
        const { reportDetached } = await import('./detach-report.ts');
        process.exitCode = await reportDetached(flags.quiet ? () => {} : say);
        return;
      }
      const { runPool } = await import('../jobs/pool-run.ts');
      const { createProgress } = await import('../ui/pool-display.ts');
      const { renderPoolSummary } = await import('../ui/pool-summary.ts');
      const { poolResultToJson } = await import('../jobs/pool-summary.ts');
      const { readGpuView } = await import('../strays/gpu-view.ts');
      const echo = Boolean(flags.tag || flags.lineBuffer);
      (await import('../jobs/pool-task.ts')).setTaskOutput({ lineBuffer: echo, tag: Boolean(flags.tag) });
      // tasks' lines would scroll a redrawn display apart: with them, progress is plain lines
      const mode = flags.quiet ? 'quiet' : process.stderr.isTTY && !echo ? 'live' : 'plain';
      const result = await runPool({ spec, resume, argv: process.argv.slice(2), probe: () => readGpuView(), observer: createProgress({ mode }), onReady: announceDetached, backend: slurm?.backend, onStart: slurm?.onStart }).finally(() => slurm?.finish());
      process.stderr.write(renderPoolSummary(result));
      for (const l of result.leftovers) {
        say(`still alive: pid ${l.pid} (${l.user}, state ${l.state}) ${l.command}\n  ${l.why === 'eperm' ? 'not permitted to signal it' : 'unkillable'}: ${l.fix}`);
      }
      if (flags.json) printJson(poolResultToJson(result));
      process.exitCode = result.exitCode;
      (await import('../os/prompt-exit.ts')).exitPromptlyWhenDone();
    });
}

/** The pool to run, from a file, the command line, or the run being resumed; every check happens here. */
export async function resolvePool(args: string[], flags: PoolFlags): Promise<{ spec: PoolSpec; resume?: ResumeFrom }> {
  const { RESUME_OVERRIDES, applyResumeOverrides } = await import('../jobs/pool-resume.ts');
  // with --resume, --timeout, --jobs, --per-gpu, --retries and --grace change the resumed pool
  const overrides = flags.resume === undefined ? [] : SPEC_FLAGS.filter((k) => flags[k] !== undefined && (RESUME_OVERRIDES as readonly string[]).includes(k));
  const given = SPEC_FLAGS.filter((k) => flags[k] !== undefined && !overrides.includes(k));
  let spec: PoolSpec | undefined;
  if (args.length === 1 && flags.gpus === undefined && (flags.jobs === undefined || overrides.includes('jobs'))) {
    if (given.length) throw new UsageError(`${given.map(flagName).join(', ')}: set ${given.length > 1 ? 'these' : 'this'} in ${args[0]} instead`, 'flags describe a pool given on the command line; a pool file describes itself');
    spec = loadPoolFile(args[0]!);
  } else if (args.length || given.length || !flags.resume) {
    spec = buildCliPool(flags, args);
  }
  let resume: ResumeFrom | undefined;
  if (flags.resume !== undefined) {
    // a missing ledger means nothing ran yet; opening it would create one, and bad usage writes nothing
    if (!existsSync(ledgerPath())) throw new UsageError(`no earlier pool run to resume (no ledger at ${ledgerPath()})`, 'corral history lists past runs');
    const { openLedger } = await import('../ledger/db.ts');
    const { findResumeRun, specFromLedger } = await import('../jobs/pool-resume.ts');
    const db = openLedger();
    try {
      resume = findResumeRun(db, flags.resume);
    } finally {
      db.close();
    }
    spec ??= specFromLedger(resume);
    if (overrides.length) spec = applyResumeOverrides(spec, flags);
  }
  return { spec: spec!, resume };
}
