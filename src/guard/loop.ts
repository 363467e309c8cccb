import type { Server } from 'node:http';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
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

/** The young generation's size (both semi-spaces) at which it stops growing. */
export const YOUNG_GENERATION_LIMIT = 32 * 1024 * 1024;
let youngBounded = false;

/**
 * Stops V8's young generation from growing once it reaches YOUNG_GENERATION_LIMIT, for the guard's
 * whole life. Each pass holds the snapshot (thousands of objects) while it allocates: survivors of every
 * pass add up, and V8 doubles the new space each time they exceed it, up to 128 MiB, resident for good:
 * the guard grew 100 -> 206 -> 239 MiB over 120 scans with 15-20 MiB live. At 32 MiB a pass's garbage
 * still dies young (smaller, at the starting size, promoted it and the old generation swung more: measured
 * 146 -> 151 MiB between scans 60 and 120, against 135 -> 135 here), for the same CPU per scan.
 * A growth factor of 1 is read at each would-be growth, so it takes effect when set at run time.
 * Called after each pass: the new space can have doubled once more within the pass that crossed the limit.
 */
export function boundYoungGeneration(limit = YOUNG_GENERATION_LIMIT): void {
  if (youngBounded) return;
  const young = getHeapSpaceStatistics().find((s) => s.space_name === 'new_space');
  if (young && young.space_size < limit) return;
  setFlagsFromString('--semi-space-growth-factor=1');
  youngBounded = true;
}

/**
 * The guard in the foreground: a pass, then the next one `interval` later on the monotonic clock. SIGHUP
 * reloads the policy (a bad one keeps the old and says why); SIGTERM and SIGINT end it after the pass in
 * progress. A failed pass is reported and the loop goes on: the guard outlives a bad scan.
 */
export async function runGuard(opts: GuardRunOptions): Promise<void> {
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
        if (!opts.once) boundYoungGeneration();
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
