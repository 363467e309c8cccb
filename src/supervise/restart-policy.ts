import { MAX_DURATION_MS } from '../config/duration.ts';

export type RestartMode = 'no' | 'on-failure' | 'always';

export interface RestartPolicy {
  mode: RestartMode;
  delayMs: number;
  /** restarts allowed after the first attempt; Infinity when unlimited */
  maxRestarts: number;
  /** exponential backoff: each restart waits `factor` times longer than the one before (default 1) */
  factor?: number;
  /** cap on the backoff delay; null or absent means no cap */
  maxDelayMs?: number | null;
}

export interface AttemptEnd {
  exitCode: number | null;
  signal: string | null;
  reason: StopReason;
}

export type StopReason =
  | 'exited'
  | 'timeout'
  | 'max-runtime'
  | 'signal'
  | 'main-ended'
  | 'supervisor-lost'
  | 'spawn-failed'
  | 'halted';

/** Whether another attempt starts. Stops that came from outside the job (signal, limits) never restart. */
export function shouldRestart(policy: RestartPolicy, end: AttemptEnd, restartsSoFar: number): boolean {
  if (restartsSoFar >= policy.maxRestarts) return false;
  if (end.reason !== 'exited' && end.reason !== 'timeout') return false;
  if (policy.mode === 'always') return true;
  if (policy.mode === 'on-failure') return end.reason === 'timeout' || end.exitCode !== 0;
  return false;
}

/**
 * The wait before restart number `restart` (1-based): delayMs, times factor per earlier restart, capped.
 * Never above MAX_DURATION_MS: an uncapped backoff grows past any timer (2^1000 is Infinity), and the
 * job runner's chained timer waits any finite delay for real, so the longest wait is the longest duration.
 */
export function restartDelayMs(policy: RestartPolicy, restart: number): number {
  const delay = policy.delayMs * (policy.factor ?? 1) ** Math.max(0, restart - 1);
  const capped = policy.maxDelayMs == null ? delay : Math.min(delay, policy.maxDelayMs);
  return Number.isNaN(capped) ? 0 : Math.min(capped, MAX_DURATION_MS);
}

/** timeout(1) conventions: the job's own code, 128+N for signal N, 124 for a timeout. */
export function exitStatusOf(end: AttemptEnd, signalNumber: (name: string) => number): number {
  if (end.reason === 'timeout' || end.reason === 'max-runtime') return 124;
  if (end.exitCode !== null) return end.exitCode;
  if (end.signal) return 128 + signalNumber(end.signal);
  return 125;
}
