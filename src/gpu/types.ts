/** Which probe a fact came from. */
export type GpuSource = 'nvml' | 'nvidia-smi' | 'procfs';

/** One GPU as a probe saw it. Fields a probe cannot tell are left out, never guessed as 0. */
export interface GpuDevice {
  /** NVML / nvidia-smi index (PCI bus order) */
  index: number;
  uuid?: string;
  name?: string;
  /** minor number of /dev/nvidiaN; how procfs device holders are tied to an index */
  minor?: number;
  memTotalBytes?: number;
  memUsedBytes?: number;
  /** GPU utilisation in percent over the driver's last sample period (NVML only) */
  utilPercent?: number;
  /** normalised to the 4-digit-domain form of /proc/driver, e.g. "0000:18:00.0" */
  pciBusId?: string;
  source: GpuSource;
}

export type GpuProcessKind = 'compute' | 'graphics' | 'device-fd';

/** One process's use of one GPU. A process on two GPUs is two entries. */
export interface GpuProcess {
  pid: number;
  /** device index, or -1 when unknown (an fd on /dev/kfd, an unmapped minor, nvidia-smi without a known uuid) */
  device: number;
  /** null when no probe could tell (NVML "not available", an fd holder NVML did not name) */
  usedBytes: number | null;
  kind: GpuProcessKind;
  sources: GpuSource[];
  /** minor of the /dev/nvidiaN the process holds, when the entry comes from an fd */
  deviceMinor?: number;
  /** device nodes the process holds open (evidence for reports), including nvidiactl / nvidia-uvm */
  devicePaths?: string[];
  /** MIG instance ids from NVML; absent when MIG is off */
  gpuInstanceId?: number;
  computeInstanceId?: number;
}

export interface GpuProbeResult {
  name: GpuSource;
  ok: boolean;
  /** why the probe gave nothing; "not installed" is a normal state, not a failure of corral */
  error?: string;
  /** problems that did not stop the probe (one device lost, no permission for process lists) */
  warnings?: string[];
  /** e.g. the driver version, and the NVML process struct size chosen and why */
  detail?: string;
}

export interface GpuView {
  devices: GpuDevice[];
  processes: GpuProcess[];
  probes: GpuProbeResult[];
}

/** An empty view carrying one probe's outcome. */
export function makeEmptyView(probe: GpuProbeResult): GpuView {
  return { devices: [], processes: [], probes: [probe] };
}

/** Bus ids come as "00000000:18:00.0" (nvidia-smi, NVML) or "0000:18:00.0" (/proc/driver): compare one form. */
export function normalizePciBusId(id: string): string {
  const m = /^([0-9a-fA-F]+):([0-9a-fA-F]{2}):([0-9a-fA-F]{2})\.([0-7])$/.exec(id.trim());
  if (!m) return id.trim().toLowerCase();
  const domain = m[1]!.slice(-4).padStart(4, '0');
  return `${domain}:${m[2]}:${m[3]}.${m[4]}`.toLowerCase();
}
