import type { PoolSlot, PoolStage } from '../config/pool-spec.ts';
import { dirname, join } from 'node:path';
import { quoteShell } from '../config/template.ts';
import { ledgerPath } from '../ledger/location.ts';
import { selfCommand } from '../supervise/self-command.ts';

/** What `corral pool --slurm` adds to every sbatch: --partition, --account, --slurm-arg. */
export interface SlurmSubmitOptions {
  partition?: string;
  account?: string;
  extraArgs: string[];
}

/** One job name for every job of a run: `scancel --name` then cancels them all knowing only the run id. */
export function slurmJobName(runId: string): string {
  return `corral-${runId}`;
}

/**
 * Slurm's limit is a backstop in whole minutes: corral run on the node enforces the stage's timeout
 * exactly (exit 124, the teardown), so the limit leaves room for the grace period and a minute more.
 */
export function slurmTimeLimit(timeoutMs: number | null, graceMs: number): string | null {
  return timeoutMs === null ? null : String(Math.ceil((timeoutMs + graceMs) / 60_000) + 1);
}

/**
 * The batch script's one line: the task under `corral run`, so markers, registry and teardown work on
 * the node. Its runs go to a home of their own beside the pool's, so `corral history` and `last` in
 * the pool's home stay the pool's.
 */
export function wrapCommand(taskName: string, stage: PoolStage, argv: string[]): string {
  const run = [...selfCommand(), 'run', '--name', taskName, '--grace', `${stage.graceMs}ms`, '--stop-signal', stage.stopSignal];
  if (stage.timeoutMs !== null) run.push('--timeout', `${stage.timeoutMs}ms`);
  return `CORRAL_HOME=${quoteShell(join(dirname(ledgerPath()), 'slurm-tasks'))} exec ${[...run, '--', ...argv].map(quoteShell).join(' ')}`;
}

export function sbatchArgs(runId: string, taskName: string, stage: PoolStage, slot: PoolSlot, argv: string[], logPath: string, o: SlurmSubmitOptions): string[] {
  const args = ['--parsable', `--job-name=${slurmJobName(runId)}`, `--comment=${taskName}`, `--output=${logPath}`, '--open-mode=append', `--chdir=${stage.cwd}`];
  if (slot.gpu !== null) args.push('--gres=gpu:1');
  const limit = slurmTimeLimit(stage.timeoutMs, stage.graceMs);
  if (limit) args.push(`--time=${limit}`);
  if (o.partition) args.push(`--partition=${o.partition}`);
  if (o.account) args.push(`--account=${o.account}`);
  // the user's own arguments come last, so they can override anything corral chose
  return [...args, ...o.extraArgs, '--wrap', wrapCommand(taskName, stage, argv)];
}
