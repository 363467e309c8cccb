import type { GpuView } from '../gpu/types.ts';
import { readGpuView } from '../strays/gpu-view.ts';

/** How long one GPU probe may take before the guard scans with /proc alone. */
export const GPU_PROBE_DEADLINE_MS = 10_000;

/**
 * The GPU view, or within the deadline the procfs view alone: a hung nvidia-smi (or driver call) must
 * not stall the guard. The late probe is left to finish on its own; its answer is dropped.
 */
export async function probeGpusWithDeadline(deadlineMs = Number(process.env.CORRAL_GUARD_GPU_DEADLINE_MS) || GPU_PROBE_DEADLINE_MS): Promise<GpuView> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), deadlineMs)));
  try {
    const view = await Promise.race([readGpuView(), late]);
    if (view) return view;
  } finally {
    clearTimeout(timer);
  }
  const fallback = await readGpuView({ ...process.env, CORRAL_GPU_PROBES: 'procfs' });
  fallback.probes.push({ name: 'nvml', ok: false, error: `no answer within ${deadlineMs}ms: scanned with /proc alone` });
  return fallback;
}
