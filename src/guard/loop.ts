import type { Server } from 'node:http';
import { setFlagsFromString } from 'node:v8';
import { formatDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { EnvCache } from '../proc/env-cache.ts';
import { loadAllowList } from '../strays/allow-list.ts';
import { setLongTimeout } from '../supervise/long-timer.ts';
import { renderMetrics, serveMetrics } from './metrics.ts';
import { guardPass, type GuardContext, type PassResult } from './pass.ts';
import { loadPolicy } from './policy-file.ts';
import { openGuardState } from './state.ts';

export interface GuardRunOptions {
  policyFlag?: string;
  intervalMs: number;
  metrics?: { host: string; port: number };
  once: boolean;
  graceMs: number;
  /** progress lines (stderr) */
  log: (line: string) => void;
  /** called after each pass that scanned (the dashboard's timeline samples the guard's own scan) */
  onPass?: (result: PassResult) => void;
}

/** Loads the policy with its allow-list; both are validated before anything is scanned or written. */
export function loadGuardPolicy(flag?: string): Pick<GuardContext, 'policy' | 'allow'> {
  const policy = loadPolicy(flag);
  return { policy, allow: loadAllowList(policy.allowList) };
}

function summary(r: PassResult): string {
  return `scan: ${r.scan.processCount} processes, ${r.judged.length} covered strays, ${r.notified} notified, ${r.reaped} reaped (${Math.round(r.scan.scanMs)}ms)`;
}

/**
 * Keeps V8's young generation at its starting size for the guard's whole life. Each pass holds the
 * snapshot (thousands of objects) while it allocates: survivors of every pass add up, and V8 doubles the
 * new space each time they exceed it, 2 to 128 MiB, resident for good: the guard's memory grew over hours
 * (100 to 239 MiB over 120 scans) with 15-20 MiB live. At the starting size the pass's survivors are
 * promoted and freed by the old generation's collections instead, for the same CPU per scan (measured).
 * A growth factor of 1 is read at each would-be growth, so it takes effect when set at run time.
 */
export function boundYoungGeneration(): void {
  setFlagsFromString('--semi-space-growth-factor=1');
}

/**
 * The guard in the foreground: a pass, then the next one `interval` later on the monotonic clock. SIGHUP
 * reloads the policy (a bad one keeps the old and says why); SIGTERM and SIGINT end it after the pass in
 * progress. A failed pass is reported and the loop goes on: the guard outlives a bad scan.
 */
export async function runGuard(opts: GuardRunOptions): Promise<void> {
  if (!opts.once) boundYoungGeneration();
  const ctx: GuardContext = { ...loadGuardPolicy(opts.policyFlag), state: openGuardState(), graceMs: opts.graceMs, act: true, envCache: new EnvCache() };
  let last: PassResult | null = null;
  let server: Server | undefined;
  if (opts.metrics) server = await serveMetrics(opts.metrics, () => renderMetrics(last, ctx.state));
  opts.log(`guard: policy ${ctx.policy.source}; every ${formatDuration(opts.intervalMs)}${opts.metrics ? `; metrics on http://${opts.metrics.host}:${server ? (server.address() as { port: number }).port : opts.metrics.port}/metrics` : ''}`);
  let stopping = false;
  let wake: (() => void) | undefined;
  const onHup = () => {
    try {
      Object.assign(ctx, loadGuardPolicy(opts.policyFlag));
      opts.log(`guard: policy reloaded from ${ctx.policy.source}`);
    } catch (e) {
      const why = e instanceof UsageError ? `${e.message}${e.hint ? ` (${e.hint})` : ''}` : String(e);
      opts.log(`guard: policy reload failed, keeping the previous policy: ${why}`);
    }
  };
  const onStop = () => {
    stopping = true;
    wake?.();
  };
  process.on('SIGHUP', onHup);
  process.on('SIGTERM', onStop);
  process.on('SIGINT', onStop);
  try {
    while (!stopping) {
      try {
        const prev = last;
        last = await guardPass(ctx);
        opts.onPass?.(last);
        // a line when something happened or changed, not every 30 s for ever (the journal keeps them)
        if (opts.once || last.notified || last.reaped || last.judged.length !== prev?.judged.length) opts.log(summary(last));
      } catch (e) {
        if (opts.once) throw e;
        opts.log(`guard: scan failed, trying again next interval: ${(e as Error).message}`);
      }
      if (opts.once) break;
      await new Promise<void>((resolve) => {
        wake = resolve;
        const t = setLongTimeout(resolve, opts.intervalMs);
        wake = () => {
          t.cancel();
          resolve();
        };
        if (stopping) wake();
      });
    }
  } finally {
    process.off('SIGHUP', onHup);
    process.off('SIGTERM', onStop);
    process.off('SIGINT', onStop);
    server?.close();
    server?.closeAllConnections();
    ctx.state.close();
  }
}
