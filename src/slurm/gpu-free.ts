import { setTimeout as sleep } from 'node:timers/promises';
import type { GpuProcess, GpuView } from '../gpu/types.ts';
import { formatBytes, readGpuView } from '../strays/gpu-view.ts';
import { commandOf } from '../strays/facts.ts';
import { readProc } from '../proc/snapshot.ts';
import { holdersOf } from './job-procs.ts';
import { monotonicMs } from '../proc/clock.ts';

export interface GpusState {
  /** processes still on the GPUs when the wait ended */
  holders: GpuProcess[];
  view: GpuView;
}

const POLL_MS = 200;

/**
 * Waits until no process holds any of `gpus`, at most `waitMs` (monotonic): a killed CUDA process's
 * memory is released by the driver a moment after it exits, so one look right after a kill can be wrong.
 */
export async function waitGpusFree(gpus: number[], waitMs: number): Promise<GpusState> {
  const deadline = monotonicMs() + waitMs;
  while (true) {
    const view = await readGpuView();
    const holders = gpus.length ? holdersOf(view, gpus).filter((h) => h.pid !== process.pid) : [];
    if (!holders.length || monotonicMs() >= deadline) return { holders, view };
    await sleep(Math.min(POLL_MS, Math.max(1, deadline - monotonicMs())));
  }
}

/** "GPU 0: pid 123 (alice) python train.py, 5.5GiB" per holder; a pid NVML names that is not here says so. */
export function describeHolders(holders: GpuProcess[]): string[] {
  return holders.map((h) => {
    const p = readProc(h.pid, { cmdline: true });
    const gpu = h.device >= 0 ? `GPU ${h.device}` : `GPU minor ${h.deviceMinor ?? '?'}`;
    const who = p ? `pid ${h.pid} (uid ${p.uid}) ${commandOf(p).slice(0, 80)}` : `pid ${h.pid} (not a process on this node: another container, or the driver has not let go)`;
    return `${gpu}: ${who}, ${formatBytes(h.usedBytes)}`;
  });
}
