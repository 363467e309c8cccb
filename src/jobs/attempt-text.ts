import { formatDuration } from '../config/duration.ts';
import type { AttemptEnd } from '../supervise/restart-policy.ts';

/** The limits an attempt ran under, so that "timed out" can say after how long. */
export interface AttemptLimits {
  timeoutMs?: number | null;
  maxRuntimeMs?: number | null;
}

/**
 * How an attempt ended, in words a person acts on: "exited with status 3", "killed by SIGKILL",
 * "timed out (limit 10s)". Used for the log's separator between attempts (plain text in a file, so
 * here and not in src/ui) and by the display's retry lines.
 */
export function describeAttemptEnd(end: AttemptEnd, limits: AttemptLimits = {}): string {
  switch (end.reason) {
    case 'timeout':
      return `timed out${limits.timeoutMs ? ` (limit ${formatDuration(limits.timeoutMs)})` : ''}`;
    case 'max-runtime':
      return `reached --max-runtime${limits.maxRuntimeMs ? ` (${formatDuration(limits.maxRuntimeMs)})` : ''}`;
    case 'signal':
      return 'stopped (corral was interrupted)';
    case 'halted':
      return 'stopped (the pool halted)';
    case 'main-ended':
      return 'stopped (the main job ended)';
    case 'supervisor-lost':
      return 'torn down (its supervisor was lost)';
    case 'spawn-failed':
      return `could not start${end.exitCode !== null ? ` (status ${end.exitCode})` : ''}`;
    default:
      if (end.signal) return `killed by ${end.signal}`;
      return end.exitCode === 0 ? 'exited with status 0' : `exited with status ${end.exitCode ?? '?'}`;
  }
}
