import { readFileSync, readdirSync } from 'node:fs';
import { normalizePciBusId, type GpuDevice } from './types.ts';

/** What /proc/driver/nvidia/gpus/BUS/information tells about one GPU. */
export interface DriverGpuInfo {
  minor: number;
  pciBusId: string;
  uuid?: string;
  model?: string;
}

/**
 * Parses one `information` file: "Key:<tabs and spaces>value" lines (Model, IRQ, GPU UUID,
 * Video BIOS, Bus Type, DMA Size, DMA Mask, Bus Location, Device Minor, GPU Excluded, ...).
 * The driver writes the UUID as "GPU-????????-..." before the GPU has been initialised; that
 * is no UUID. Null when the file has no "Device Minor" (nothing to map a device node with).
 */
export function parseDriverInformation(text: string, busDir?: string): DriverGpuInfo | null {
  const kv = new Map<string, string>();
  for (const line of text.split('\n')) {
    const at = line.indexOf(':');
    if (at > 0) kv.set(line.slice(0, at).trim(), line.slice(at + 1).trim());
  }
  const minor = Number(kv.get('Device Minor'));
  if (!kv.has('Device Minor') || !Number.isInteger(minor) || minor < 0) return null;
  const bus = kv.get('Bus Location') || busDir;
  if (!bus) return null;
  const info: DriverGpuInfo = { minor, pciBusId: normalizePciBusId(bus) };
  const uuid = kv.get('GPU UUID');
  if (uuid && !uuid.includes('?')) info.uuid = uuid;
  const model = kv.get('Model');
  if (model && model !== 'Unknown') info.model = model;
  return info;
}

/** Every GPU the kernel driver knows, or [] where there is no NVIDIA driver. */
export function readDriverGpus(dir = '/proc/driver/nvidia/gpus'): DriverGpuInfo[] {
  let buses: string[];
  try {
    buses = readdirSync(dir);
  } catch {
    return [];
  }
  const out: DriverGpuInfo[] = [];
  for (const bus of buses) {
    try {
      const info = parseDriverInformation(readFileSync(`${dir}/${bus}/information`, 'utf8'), bus);
      if (info) out.push(info);
    } catch {
      /* a GPU removed while being read, or a non-directory entry */
    }
  }
  return out;
}

/**
 * Devices as the kernel driver lists them, for when neither NVML nor nvidia-smi answers (e.g.
 * "Driver/library version mismatch" after a driver upgrade without a reboot). The index is the
 * position in PCI bus order, which is how NVML and nvidia-smi number GPUs by default; the merge
 * only uses these to fill gaps when another probe named the devices.
 */
export function driverGpusToDevices(gpus: DriverGpuInfo[]): GpuDevice[] {
  const sorted = [...gpus].sort((a, b) => (a.pciBusId < b.pciBusId ? -1 : a.pciBusId > b.pciBusId ? 1 : 0));
  return sorted.map((g, index) => {
    const dev: GpuDevice = { index, minor: g.minor, pciBusId: g.pciBusId, source: 'procfs' };
    if (g.uuid) dev.uuid = g.uuid;
    if (g.model) dev.name = g.model;
    return dev;
  });
}
