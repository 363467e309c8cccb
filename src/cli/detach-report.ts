import { startDetached, supervisorLogPath } from '../supervise/detach.ts';

/**
 * The corral that `--detach` returns from: starts the supervisor in its own session, prints the run id
 * alone on stdout (so `id=$(corral run --detach -- CMD)` works) and what to do next on stderr. Exit 0
 * once the run has started; the supervisor's own status when it ended before (bad ledger: 2; 125).
 */
export async function reportDetached(note: (line: string) => void): Promise<number> {
  const started = await startDetached();
  if (started.runId === null) {
    note(`the detached supervisor ended before its run started (exit status ${started.status})`);
    return started.status || 125;
  }
  process.stdout.write(`${started.runId}\n`);
  note(`run ${started.runId} detached (supervisor pid ${started.pid}): corral logs ${started.runId} -f to follow it, corral stop ${started.runId} to stop it; corral's own messages: ${supervisorLogPath(started.runId)}`);
  return 0;
}
