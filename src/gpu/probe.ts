import { driverGpusToDevices, readDriverGpus } from './driver-info.ts';
import { holdersToProcesses, scanDeviceHolders, type HolderScanOptions } from './device-holders.ts';
import { mergeGpuViews } from './merge.ts';
import { probeNvidiaSmi } from './nvidia-smi.ts';
import { probeNvml } from './nvml.ts';
import type { GpuView } from './types.ts';
import { readdirSync } from 'node:fs';

export interface ProbeGpusOptions {
  /** NVML library soname or path (default libnvidia-ml.so.1) */
  nvmlLibrary?: string;
  /** nvidia-smi binary (default: from PATH) */
  nvidiaSmiPath?: string;
  nvidiaSmiTimeoutMs?: number;
  /** /proc/driver/nvidia/gpus, injectable for tests */
  driverGpusDir?: string;
  /** device-holder scan options: device directory, pids, ignore list */
  holders?: HolderScanOptions;
  /** turn single probes off (all on by default) */
  use?: { nvml?: boolean; nvidiaSmi?: boolean; procfs?: boolean };
}

/** Device nodes in use, and the GPUs the kernel driver lists (to map minors where NVML did not). */
export function probeProcfs(opts: ProbeGpusOptions = {}): GpuView {
  const devDir = opts.holders?.devDir ?? '/dev';
  const nodes = gpuNodesIn(devDir);
  if (!nodes.nvidia && !nodes.amd && !opts.holders?.pids) {
    // Reading every process's fd table costs as much as the rest of a scan; with no GPU device
    // node on the machine no process can hold one.
    return { devices: [], processes: [], probes: [{ name: 'procfs', ok: true, detail: `no GPU device nodes in ${devDir}` }] };
  }
  try {
    const devices = driverGpusToDevices(readDriverGpus(opts.driverGpusDir));
    const processes = holdersToProcesses(scanDeviceHolders(opts.holders));
    return { devices, processes, probes: [{ name: 'procfs', ok: true, detail: `${devices.length} driver GPUs, ${processes.length} fd holders` }] };
  } catch (err) {
    return { devices: [], processes: [], probes: [{ name: 'procfs', ok: false, error: (err as Error).message }] };
  }
}

/**
 * One view of the machine's GPUs: NVML first (fast, exact); nvidia-smi only when NVML gave
 * nothing (it is slow: each call initialises the driver); procfs device holders always, as they
 * find holders NVML cannot name. A machine without GPUs gives empty lists, never an error.
 */
export async function probeGpus(opts: ProbeGpusOptions = {}): Promise<GpuView> {
  const use = { nvml: true, nvidiaSmi: true, procfs: true, ...opts.use };
  // NVML and nvidia-smi need /dev/nvidiactl or /dev/nvidiaN; without them skip loading koffi and
  // spawning nvidia-smi (an explicitly named library is still tried: tests and unusual installs).
  const devDir = opts.holders?.devDir ?? '/dev';
  const views: GpuView[] = [];
  if (!gpuNodesIn(devDir).nvidia && opts.nvmlLibrary === undefined && opts.nvidiaSmiPath === undefined) {
    const error = `no NVIDIA device nodes in ${devDir} (no driver loaded)`;
    if (use.nvml) views.push({ devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error }] });
    if (use.nvidiaSmi) views.push({ devices: [], processes: [], probes: [{ name: 'nvidia-smi', ok: false, error }] });
    use.nvml = use.nvidiaSmi = false;
  }
  const nvml = use.nvml ? probeNvml({ library: opts.nvmlLibrary }) : null;
  if (nvml) views.push(nvml);
  if (use.nvidiaSmi && !nvml?.probes[0]?.ok) {
    views.push(await probeNvidiaSmi({ path: opts.nvidiaSmiPath, timeoutMs: opts.nvidiaSmiTimeoutMs }));
  }
  // after NVML has shut down, so corral's own NVML fds are closed (it also excludes its own pid)
  if (use.procfs) views.push(probeProcfs(opts));
  return mergeGpuViews(views);
}

/** Which kinds of GPU device node exist: /dev/nvidia* (N or ctl), /dev/kfd, /dev/dri/renderD*. */
export function gpuNodesIn(devDir: string): { nvidia: boolean; amd: boolean } {
  let nvidia = false;
  let amd = false;
  try {
    for (const name of readdirSync(devDir)) {
      if (/^nvidia(\d+|ctl)$/.test(name)) nvidia = true;
      else if (name === 'kfd') amd = true;
    }
    if (!amd) amd = readdirSync(`${devDir}/dri`).some((n) => n.startsWith('renderD'));
  } catch {
    /* no dri directory */
  }
  return { nvidia, amd };
}
