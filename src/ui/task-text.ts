import { visible } from '../cli/output.ts';
import type { PoolTask } from '../jobs/pool-plan.ts';
import { cutMiddle } from './width.ts';

/** `sample.3 (ckpts/…/epoch_12.pt)`: the item cut in the middle (paths differ at their ends), shown escaped. */
export function describeTask(t: PoolTask, itemCols = 40): string {
  return `${visible(t.name)} (${cutMiddle(visible(t.item.value), Math.max(itemCols, 5))})`;
}

/** True when the task, or its last attempt before the pool was interrupted, hit its time limit. */
export function timedOut(t: PoolTask): boolean {
  return t.result?.reason === 'timeout' || t.result?.lastAttemptReason === 'timeout';
}

/** exit 3 / killed by SIGKILL / timed out / stopped, for a task that did not succeed. */
export function describeEnd(t: PoolTask): string {
  const r = t.result;
  if (!r) return t.state;
  if (r.reason === 'timeout') return 'timed out';
  if (r.reason === 'preflight') return 'refused by preflight';
  if (r.reason === 'signal' || r.reason === 'halted') {
    // stopped while waiting to retry: how the last attempt ended is what the user needs (it timed out)
    const last = r.lastAttemptReason === 'timeout' ? `, after attempt ${r.attempts} timed out` : r.lastAttemptReason === 'exited' ? `, after attempt ${r.attempts} failed` : '';
    return `stopped (${r.reason === 'signal' ? 'interrupted' : 'halt'}${last})`;
  }
  if (r.reason === 'spawn-failed') return `could not start (exit ${r.status})`;
  return r.signal ? `killed by ${r.signal}` : `exit ${r.exitCode}`;
}

/**
 * How a run ended, for `corral run`'s last line: a status above 128 is a signal (137 is "killed by
 * SIGKILL", not "exit status 137"), 124 a limit, anything else the job's own code.
 */
export function describeRunEnd(reason: string, status: number, signal: string | null = null): string {
  if (reason === 'timeout') return `timed out (exit status ${status})`;
  if (reason === 'max-runtime') return `reached --max-runtime (exit status ${status})`;
  if (reason === 'signal') return `interrupted (exit status ${status})`;
  if (reason === 'stopped') return `stopped by corral stop (exit status ${status})`;
  if (reason === 'spawn-failed') return `could not start (exit status ${status})`;
  if (signal) return `killed by ${signal} (exit status ${status})`;
  if (status === 0) return 'exited with status 0';
  return `exited with status ${status}`;
}
