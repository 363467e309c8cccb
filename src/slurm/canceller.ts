import { spawn } from 'node:child_process';

/** Cancels the run's Slurm jobs if corral dies without saying it finished. */
export interface Canceller {
  /** corral finished (its jobs are done or cancelled): the canceller exits without cancelling */
  markClean(): void;
}

// The same shape as the run's sentinel (src/supervise/sentinel.ts): a shell blocked in read(2) on a pipe
// only corral holds; a clean end writes "clean", any other end (SIGKILL) closes it and the shell runs
// scancel for every job of the run by its job name. It needs nothing else: no home, no ledger, no ids.
const SCRIPT = 'read -r line; [ "$line" = clean ] && exit 0; exec scancel --name="$0" --user="$1"';

export function startCanceller(jobName: string, env: NodeJS.ProcessEnv): Canceller {
  const child = spawn('/bin/sh', ['-c', SCRIPT, jobName, String(process.getuid?.() ?? '')], {
    detached: true, // its own session: the Ctrl-C that reaches corral does not reach it
    stdio: ['pipe', 'ignore', 'ignore'],
    env,
  });
  child.once('error', () => {});
  child.unref();
  (child.stdin as unknown as { unref?: () => void } | null)?.unref?.();
  child.stdin?.on('error', () => {});
  return { markClean: () => child.stdin?.end('clean\n') };
}
