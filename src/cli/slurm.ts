import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { readSlurmJob } from '../slurm/job-env.ts';
import { printJson } from './output.ts';

interface HookFlags {
  grace: string;
  gpuWait: string;
  drain: boolean;
  json?: boolean;
}

/** Exit status a hook gives Slurm when the node is not fit for the next job: Slurm drains it. */
export const EXIT_NODE_UNFIT = 1;

const MAX_WAIT_MS = 300_000;

function readWait(text: string, flag: string): number {
  const ms = parseDuration(text, flag);
  if (ms > MAX_WAIT_MS) throw new UsageError(`${flag} ${text} is longer than 5m`, 'Slurm waits for its hooks (PrologEpilogTimeout): keep them short');
  return ms;
}

const SLURM_CONF = `
In slurm.conf (see docs/slurm.md):
  Prolog=/usr/local/sbin/corral-prolog      # a script: exec corral slurm prolog
  Epilog=/usr/local/sbin/corral-epilog      # a script: exec corral slurm epilog
Slurm runs them as root with the job in SLURM_JOB_ID, SLURM_JOB_UID and SLURM_JOB_GPUS.`;

export function register(program: Command): void {
  const slurm = program.command('slurm').description('hooks for slurm.conf: keep each node free of GPU strays between jobs');
  const hook = (name: 'prolog' | 'epilog', description: string, gpuWait: string, help: string) =>
    slurm
      .command(name)
      .description(description)
      .option('--grace <dur>', 'time between the stop signal and SIGKILL', '5s')
      .option('--gpu-wait <dur>', "how long the job's GPUs may take to come free", gpuWait)
      .option('--no-drain', 'only exit non-zero; do not set the drain reason with scontrol')
      .option('--json', 'machine-readable result')
      .addHelpText('after', help + SLURM_CONF);
  hook('prolog', "check that the job's GPUs are free; fail the job start if not", '5s', `
Exit status: 0 the GPUs are free; 1 a process holds one (Slurm drains the node and requeues the job);
2 not run by Slurm (no SLURM_JOB_ID).
Example:
  SLURM_JOB_ID=7 SLURM_JOB_UID=1000 SLURM_JOB_GPUS=0,1 corral slurm prolog   (what slurmd does)
`).action(async (flags: HookFlags) => {
    const job = readSlurmJob();
    const wait = readWait(flags.gpuWait, '--gpu-wait');
    const { runProlog, renderProlog } = await import('../slurm/prolog.ts');
    const res = await runProlog(job, wait);
    await finish('prolog', job, res.problems, flags, () => renderProlog(job, res), { job, ...res });
  });
  hook('epilog', "reap what the job left on the node (its uid's processes marked with the job, its GPUs' holders) and check its GPUs came free", '10s', `
Exit status: 0 nothing left; 1 something survived or a GPU is still held (Slurm drains the node);
2 not run by Slurm (no SLURM_JOB_ID).
Example:
  SLURM_JOB_ID=7 SLURM_JOB_UID=1000 SLURM_JOB_GPUS=0 corral slurm epilog --grace 2s
`).action(async (flags: HookFlags) => {
    const job = readSlurmJob();
    const graceMs = readWait(flags.grace, '--grace');
    const gpuWaitMs = readWait(flags.gpuWait, '--gpu-wait');
    const { runEpilog, renderEpilog } = await import('../slurm/epilog.ts');
    const res = await runEpilog(job, { graceMs, gpuWaitMs });
    const json = { job, found: res.found, killed: res.reap?.killed.map((k) => ({ pid: k.pid, command: k.command })) ?? [], problems: res.problems };
    await finish('epilog', job, res.problems, flags, () => renderEpilog(job, res), json);
  });
}

async function finish(name: string, job: ReturnType<typeof readSlurmJob>, problems: string[], flags: HookFlags, text: () => string, json: object): Promise<void> {
  if (flags.json) printJson(json);
  else process.stdout.write(text());
  if (!problems.length) return;
  process.exitCode = EXIT_NODE_UNFIT;
  if (flags.drain) {
    const { drainNode } = await import('../slurm/drain.ts');
    drainNode(job.node, `corral ${name} job ${job.id}: ${problems[0]}${problems.length > 1 ? ` (+${problems.length - 1} more)` : ''}`);
  }
}
