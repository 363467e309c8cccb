import { probeGpus, type ProbeGpusOptions } from '../gpu/probe.ts';
import type { GpuView } from '../gpu/types.ts';
import type { GpuUse } from './types.ts';

/**
 * Probe options from the environment. CORRAL_GPU_DEV_DIR points the device-holder scan at another
 * directory of device nodes (tests use plain files named nvidia0); CORRAL_NVML_LIBRARY names another NVML
 * library (a container's, or a test's stand-in); CORRAL_GPU_PROBES=procfs,nvml limits which probes run.
 */
export function gpuProbeOptions(env = process.env): ProbeGpusOptions {
  const opts: ProbeGpusOptions = {};
  if (env.CORRAL_NVML_LIBRARY) opts.nvmlLibrary = env.CORRAL_NVML_LIBRARY;
  if (env.CORRAL_GPU_DEV_DIR) opts.holders = { devDir: env.CORRAL_GPU_DEV_DIR.replace(/\/+$/, '') };
  if (env.CORRAL_GPU_PROBES) {
    const on = new Set(env.CORRAL_GPU_PROBES.split(',').map((s) => s.trim()));
    opts.use = { nvml: on.has('nvml'), nvidiaSmi: on.has('nvidia-smi'), procfs: on.has('procfs') };
  }
  return opts;
}

/** The GPU view, never failing: a machine without GPUs (or a probe that throws) gives an empty view. */
export async function readGpuView(env = process.env): Promise<GpuView> {
  try {
    return await probeGpus(gpuProbeOptions(env));
  } catch (e) {
    return { devices: [], processes: [], probes: [{ name: 'procfs', ok: false, error: (e as Error).message }] };
  }
}

export function gpuUseByPid(view: GpuView): Map<number, GpuUse[]> {
  const out = new Map<number, GpuUse[]>();
  for (const g of view.processes) {
    const use: GpuUse = { device: g.device, usedBytes: g.usedBytes, kind: g.kind };
    if (g.deviceMinor !== undefined) use.deviceMinor = g.deviceMinor;
    if (g.devicePaths) use.devicePaths = g.devicePaths;
    const list = out.get(g.pid);
    if (list) list.push(use);
    else out.set(g.pid, [use]);
  }
  return out;
}

/** True when a GPU use is on device `index`: by index, or by /dev/nvidiaN minor where no index is known. */
export function usesDevice(u: GpuUse, index: number): boolean {
  return u.device === index || (u.device === -1 && u.deviceMinor === index);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '?';
  if (bytes < 1024) return `${bytes}B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = bytes / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)}${units[i]}`;
}
