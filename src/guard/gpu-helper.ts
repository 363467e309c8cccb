/**
 * The guard's GPU probe process: one line on stdin asks for a probe, one JSON line on stdout answers.
 * NVML is a synchronous library call that can hang in the driver; here a hang stalls only this process,
 * which the guard kills at its deadline. Device holders in /proc are read by the guard itself.
 * Started as gpu-helper-main.ts by Node, or as `corral __gpu-helper` by the single-file binary
 * (scripts/sea-main.ts), which has no script file to give Node.
 */
import { createInterface } from 'node:readline';
import { probeGpus } from '../gpu/probe.ts';
import { gpuProbeOptions } from '../strays/gpu-view.ts';

/** The argument that makes the single-file binary this probe process. */
export const GPU_HELPER_ARG = '__gpu-helper';

export async function serveGpuProbes(): Promise<void> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (!line.trim()) continue;
    const opts = gpuProbeOptions();
    opts.use = { nvml: opts.use?.nvml ?? true, nvidiaSmi: opts.use?.nvidiaSmi ?? true, procfs: false };
    let answer: unknown;
    try {
      answer = await probeGpus(opts);
    } catch (e) {
      answer = { devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error: (e as Error).message }] };
    }
    process.stdout.write(JSON.stringify(answer) + '\n');
  }
}
