import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { parseDuration, formatDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { parseSignal } from '../config/signals.ts';
import { parseGpuList } from '../config/gpu-list.ts';
import type { RestartMode } from '../supervise/restart-policy.ts';
import { parseSize, MIN_LOG_MAX } from '../config/size.ts';
import { checkLogPath } from './log-path.ts';
import { say } from './output.ts';
import { describeRunEnd } from '../ui/task-text.ts';
// Both read (and remove) what the environment says about this corral before the job's environment is copied.
import { announceDetached, isDetachedSupervisor } from '../supervise/detach.ts';
import '../supervise/signals.ts';

interface RunFlags {
  name?: string;
  gpus?: string;
  timeout?: string;
  grace: string;
  stopSignal: string;
  restart: RestartMode;
  restartDelay: string;
  maxRestarts?: string;
  maxRuntime?: string;
  sidecar: string[];
  sidecarRestart: RestartMode;
  sidecarRestartDelay: string;
  sidecarMaxRuntime?: string;
  log?: boolean | string;
  logMax?: string;
  quiet?: boolean;
  detach?: boolean;
}

const collect = (v: string, prev: string[]) => [...prev, v];

export function register(program: Command): void {
  program
    .command('run')
    .description('run one job (and its sidecars) under full containment; nothing it starts survives it')
    .argument('<command...>', 'the command to run (put it after --)')
    .option('--name <name>', 'a name for the run, shown in ps and history')
    .option('--gpus <list>', 'GPUs for the job: sets CUDA_VISIBLE_DEVICES and CORRAL_GPU (0,1 or 0-3)')
    .option('--timeout <dur>', 'stop an attempt after this long (exit 124)')
    .option('--grace <dur>', 'time between the stop signal and SIGKILL', '10s')
    .option('--stop-signal <sig>', 'signal that asks the job to stop', 'TERM')
    .addOption(new Option('--restart <when>', 'restart the main job').choices(['no', 'on-failure', 'always']).default('no'))
    .option('--restart-delay <dur>', 'wait between attempts', '1s')
    .option('--max-restarts <n>', 'most restarts (default: unlimited when --restart is set)')
    .option('--max-runtime <dur>', 'end the job after this long in all, across restarts (exit 124)')
    .option('--sidecar <cmd>', "a job beside the main one, run with sh -c; stopped when the main job ends (repeatable)", collect, [])
    .addOption(new Option('--sidecar-restart <when>', 'restart policy of sidecars').choices(['no', 'on-failure', 'always']).default('no'))
    .option('--sidecar-restart-delay <dur>', 'wait between sidecar attempts', '1s')
    .option('--sidecar-max-runtime <dur>', 'end each sidecar after this long in all')
    .option('--log [file]', "capture stdout and stderr to FILE (default: the run's log, see corral logs) while still showing them")
    .option('--log-max <size>', 'cap of each log file, like 100M, 512K or 1G (default 100M); past it the log rotates to FILE.1, keeping the newest output')
    .option('-q, --quiet', "no corral messages on stderr, only the job's own output")
    .option('--detach', "start the run in the background, in its own session, print its id and return (implies --log; see corral logs, ps, stop)")
    .passThroughOptions()
    .addHelpText('after', `
Examples:
  corral run -- python3 -c "import time; time.sleep(3)"
  corral run --timeout 30m --grace 20s -- python3 train.py --epochs 10
  corral run --restart always --restart-delay 5s --max-runtime 2h -- python3 train.py
  corral run --gpus 0 --sidecar 'bash background_training.sh' --sidecar-restart always -- python3 train.py

When corral gets SIGINT, SIGTERM or SIGHUP it stops every job gracefully (a second one kills at once) and
exits 130/143/129; a SIGHUP that was ignored when corral started (nohup) stays ignored. If corral itself
is killed, a sentinel process tears the run down and records 'supervisor-lost' in the ledger.
--detach prints the run id and returns (exit 0) once the run has started; the run goes on in its own
session, its output in its log: corral logs ID -f, corral ps, corral stop ID.
In the foreground of a terminal the job shares it, as under a shell: Ctrl-C sends the job SIGINT (corral
adds no signal of its own, waits --grace, then kills whatever is left; exit 130), Ctrl-Z stops the job
and corral, fg resumes both, window-size changes reach the job and /dev/tty works.`)
    .action(async (command: string[], flags: RunFlags) => {
      if (flags.detach) flags.log ??= true;
      const opts = buildRunOptions(command, flags);
      const note = flags.quiet ? () => {} : say;
      if (flags.detach && !isDetachedSupervisor()) {
        const { reportDetached } = await import('./detach-report.ts');
        process.exitCode = await reportDetached(note);
        return;
      }
      const { runMain } = await import('../jobs/run-main.ts');
      const result = await runMain({ ...opts, say: note, warn: say, onReady: announceDetached, detached: isDetachedSupervisor() });
      // The job's teardown and the run's final sweep can both report one process: say it once.
      const seen = new Set<string>();
      for (const l of result.leftovers) {
        if (seen.has(`${l.pid}:${l.starttime}`)) continue;
        seen.add(`${l.pid}:${l.starttime}`);
        say(`still alive: pid ${l.pid} (${l.user}, state ${l.state}) ${l.command}\n  ${l.why === 'eperm' ? 'not permitted to signal it' : 'unkillable'}: ${l.fix}`);
      }
      note(`run ${result.runId} ended: ${describeRunEnd(result.main.end.reason, result.status, result.main.end.signal)}`);
      process.exitCode = result.status;
      (await import('../os/prompt-exit.ts')).exitPromptlyWhenDone();
    });
}


function positiveInt(text: string, what: string): number {
  if (!/^\d+$/.test(text)) throw new UsageError(`${what} must be a whole number, got '${text}'`);
  return Number(text);
}

function parseGpus(text: string): string {
  try {
    return parseGpuList(text).join(',');
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`invalid --gpus '${text}': ${e.message}`, e.hint ?? 'write GPU indexes like 0,1 or 0-3');
    throw e;
  }
}

/** Turns flags into run options; every check happens here, before anything starts. */
export function buildRunOptions(command: string[], f: RunFlags) {
  if (!command.length) throw new UsageError('no command given', 'put the command after --: corral run -- python3 train.py');
  const graceMs = parseDuration(f.grace, '--grace');
  const stopSignal = parseSignal(f.stopSignal);
  const env: NodeJS.ProcessEnv = { ...process.env };
  let gpus: string | undefined;
  if (f.gpus !== undefined) {
    gpus = parseGpus(f.gpus);
    env.CUDA_VISIBLE_DEVICES = gpus;
    env.CORRAL_GPU = gpus;
  }
  const restartSet = f.restart !== 'no';
  const maxRestarts = f.maxRestarts !== undefined ? positiveInt(f.maxRestarts, '--max-restarts') : restartSet ? Infinity : 0;
  const main = {
    argv: command, env, gpus, graceMs, stopSignal, logMaxBytes: parseSize(f.logMax ?? '100M', '--log-max', MIN_LOG_MAX),
    timeoutMs: f.timeout !== undefined ? parseDuration(f.timeout, '--timeout') : undefined,
    maxRuntimeMs: f.maxRuntime !== undefined ? parseDuration(f.maxRuntime, '--max-runtime') : undefined,
    restart: { mode: f.restart, delayMs: parseDuration(f.restartDelay, '--restart-delay'), maxRestarts },
  };
  const sideDelay = parseDuration(f.sidecarRestartDelay, '--sidecar-restart-delay');
  const sideMax = f.sidecarMaxRuntime !== undefined ? parseDuration(f.sidecarMaxRuntime, '--sidecar-max-runtime') : undefined;
  const sidecars = f.sidecar.map((cmd, i) => {
    if (!cmd.trim()) throw new UsageError(`--sidecar ${i + 1} is empty`, "give it a command: --sidecar 'bash background.sh'");
    return {
      name: `sidecar${i + 1}`, argv: ['/bin/sh', '-c', cmd], env, gpus, graceMs, stopSignal, maxRuntimeMs: sideMax, logMaxBytes: main.logMaxBytes,
      restart: { mode: f.sidecarRestart, delayMs: sideDelay, maxRestarts: f.sidecarRestart === 'no' ? 0 : Infinity },
    };
  });
  const log = typeof f.log === 'string' ? resolve(f.log) : f.log;
  if (f.logMax !== undefined && !log) throw new UsageError('--log-max applies only to a log', 'add --log: corral run --log --log-max 1G -- CMD');
  if (main.timeoutMs === 0) throw new UsageError('--timeout must be more than 0', `for example --timeout ${formatDuration(60_000)}`);
  // An unwritable --log FILE is bad usage, found before the job starts, not a crash after it did (last check).
  if (typeof log === 'string') checkLogPath(log);
  return { name: f.name, main, sidecars, graceMs, stopSignal, log, argv: process.argv.slice(2) };
}
