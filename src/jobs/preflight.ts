import { setTimeout as sleep } from 'node:timers/promises';
import type { PreflightPolicy } from '../config/pool-spec.ts';
import type { GpuView } from '../gpu/types.ts';
import type { Identity } from '../proc/identity.ts';
import { readEnvFacts } from '../proc/markers.ts';
import { readProc } from '../proc/snapshot.ts';
import { userName } from '../supervise/leftovers.ts';

/**
 * The GPU slot check before a task starts on a GPU: is anyone else's process on that GPU, and is
 * enough memory free? A slot that looks free to the scheduler may still hold a survivor of an earlier
 * run (the incident's 5.5 GiB orphan); this is where a pool notices before stacking work on top of it.
 */
export interface GpuUser {
  pid: number;
  user: string;
  command: string;
  usedBytes: number | null;
}

export interface GpuCheck {
  gpu: number;
  /** false when no probe could see that GPU (no NVML, nvidia-smi or driver): nothing was checked */
  known: boolean;
  others: GpuUser[];
  freeBytes: number | null;
  /** false when min-free-mem is set and not free (or the free memory cannot be told) */
  enoughMem: boolean;
}

/** Reads one GPU's state out of a probe view. `ours(pid)` says whether a process belongs to this pool. */
export function checkGpu(view: GpuView, gpu: number, ours: (pid: number) => boolean, minFreeBytes: number | null): GpuCheck {
  const dev = view.devices.find((d) => d.index === gpu);
  const seen = new Set<number>();
  const others: GpuUser[] = [];
  for (const p of view.processes) {
    if (p.device !== gpu || seen.has(p.pid) || p.pid === process.pid || ours(p.pid)) continue;
    seen.add(p.pid);
    const info = readProc(p.pid, { environ: false, cgroup: false });
    others.push({ pid: p.pid, user: info ? userName(info.uid) : '?', command: info?.cmdline.join(' ') || info?.comm || '?', usedBytes: p.usedBytes });
  }
  const freeBytes = dev?.memTotalBytes !== undefined && dev.memUsedBytes !== undefined ? dev.memTotalBytes - dev.memUsedBytes : null;
  const enoughMem = minFreeBytes === null || (freeBytes !== null && freeBytes >= minFreeBytes);
  return { gpu, known: dev !== undefined, others, freeBytes, enoughMem };
}

/** A process of this run: it carries the run's marker, or the registry saw it in one of the run's jobs. */
export function belongsToRun(pid: number, runId: string, registry: Identity[]): boolean {
  return readEnvFacts(pid).runId === runId || registry.some((i) => i.pid === pid);
}

function formatBytes(n: number): string {
  return n >= 2 ** 30 ? `${(n / 2 ** 30).toFixed(1)} GiB` : `${Math.round(n / 2 ** 20)} MiB`;
}

export function describeCheck(c: GpuCheck, minFreeBytes: number | null): string {
  const parts: string[] = [];
  if (c.others.length) {
    const shown = c.others.slice(0, 3).map((o) => `pid ${o.pid} (${o.user}${o.usedBytes !== null ? `, ${formatBytes(o.usedBytes)}` : ''}) ${o.command.slice(0, 60)}`);
    parts.push(`${c.others.length} other process(es) on GPU ${c.gpu}: ${shown.join('; ')}${c.others.length > 3 ? '; ...' : ''}`);
  }
  if (!c.enoughMem) parts.push(`GPU ${c.gpu} has ${c.freeBytes === null ? 'an unknown amount of' : formatBytes(c.freeBytes)} free memory, --min-free-mem wants ${formatBytes(minFreeBytes ?? 0)}`);
  return parts.join('; ');
}

export type PreflightOutcome = { go: true } | { go: false; stopped: true } | { go: false; stopped: false; reason: string };

export interface PreflightOptions {
  policy: PreflightPolicy;
  minFreeBytes: number | null;
  probe: () => Promise<GpuView>;
  ours: (pid: number) => boolean;
  say: (line: string) => void;
  /** policy reap: reaps the strays on a GPU (pool-reap.ts); without it, reap behaves as wait */
  reap?: (gpu: number) => Promise<{ reaped: number; line: string | null }>;
  /** told while a task waits for its GPU (policy wait), and again when the wait ends */
  onWait?: (gpu: number, why: string | null) => void;
  pollMs?: number;
}

/** Runs the policy before each task. Concurrent checks share one probe: the probe scans all of /proc. */
export class Preflight {
  private opts: PreflightOptions;
  private inflight: Promise<GpuView> | null = null;
  private warned = new Set<string>();
  private reaping = new Map<number, Promise<number>>();

  constructor(opts: PreflightOptions) {
    this.opts = opts;
  }

  private probe(): Promise<GpuView> {
    this.inflight ??= this.opts.probe().finally(() => (this.inflight = null));
    return this.inflight;
  }

  /** One reap per GPU at a time: tasks waiting for the same GPU share it. */
  private reapGpu(gpu: number): Promise<number> {
    let p = this.reaping.get(gpu);
    if (!p) {
      p = this.opts.reap!(gpu).then(({ reaped, line }) => {
        if (line) this.warnOnce(line, line);
        return reaped;
      }).finally(() => this.reaping.delete(gpu));
      this.reaping.set(gpu, p);
    }
    return p;
  }

  private warnOnce(key: string, line: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.say(line);
  }

  async beforeTask(gpu: number | null, stop: AbortSignal): Promise<PreflightOutcome> {
    const { policy, minFreeBytes } = this.opts;
    if (gpu === null || policy === 'ignore') return { go: true };
    let waiting = false;
    let justReaped = false;
    try {
      while (true) {
        if (stop.aborted) return { go: false, stopped: true };
        const c = checkGpu(await this.probe(), gpu, this.opts.ours, minFreeBytes);
        if (!c.known) {
          if (policy === 'fail') return { go: false, stopped: false, reason: `preflight: no probe can see GPU ${gpu}` };
          // once per pool: on a machine with no GPU every task would repeat it, saying nothing new
          this.warnOnce('unknown', `preflight: no probe can see GPU ${gpu} (no NVML, nvidia-smi or driver info); this pool's GPUs are not checked`);
          return { go: true };
        }
        if (!c.others.length && c.enoughMem) return { go: true };
        const why = describeCheck(c, minFreeBytes);
        if (policy === 'fail') return { go: false, stopped: false, reason: `preflight: ${why}` };
        if (policy === 'warn') {
          this.warnOnce(`${gpu}:${c.others.map((o) => o.pid).join(',')}:${c.enoughMem}`, `preflight warning: ${why}; starting anyway`);
          return { go: true };
        }
        // reap: take the strays on that GPU and look again at once; what is not a stray is waited for
        // (at most once between two polls: a GPU that stays busy after a reap never spins this loop)
        if (policy === 'reap' && this.opts.reap && !justReaped && (await this.reapGpu(gpu)) > 0) {
          justReaped = true;
          continue;
        }
        justReaped = false;
        if (!waiting) this.opts.onWait?.(gpu, why);
        waiting = true;
        await sleep(this.opts.pollMs ?? 2000, undefined, { signal: stop }).catch(() => {});
      }
    } finally {
      if (waiting) this.opts.onWait?.(gpu, null);
    }
  }
}
