import type { GpuDevice, GpuProcess, GpuProcessKind, GpuView } from './types.ts';

const KIND_RANK: Record<GpuProcessKind, number> = { compute: 0, graphics: 1, 'device-fd': 2 };

function sameDevice(a: GpuDevice, b: GpuDevice): boolean {
  if (a.uuid && b.uuid) return a.uuid === b.uuid;
  if (a.pciBusId && b.pciBusId) return a.pciBusId === b.pciBusId;
  return false;
}

/** The devices of the first view that has any; later views only fill fields it left out. */
function mergeDevices(views: GpuView[]): GpuDevice[] {
  const baseAt = views.findIndex((v) => v.devices.length > 0);
  if (baseAt < 0) return [];
  const devices = views[baseAt]!.devices.map((d) => ({ ...d }));
  for (const view of views) {
    if (view === views[baseAt]) continue;
    for (const other of view.devices) {
      const dev = devices.find((d) => sameDevice(d, other));
      if (!dev) continue; // another probe's numbering; adding it could duplicate an index
      dev.uuid ??= other.uuid;
      dev.name ??= other.name;
      dev.minor ??= other.minor;
      dev.pciBusId ??= other.pciBusId;
      dev.memTotalBytes ??= other.memTotalBytes;
      dev.memUsedBytes ??= other.memUsedBytes;
      dev.utilPercent ??= other.utilPercent;
      for (const k of Object.keys(dev) as (keyof GpuDevice)[]) if (dev[k] === undefined) delete dev[k];
    }
  }
  return devices.sort((a, b) => a.index - b.index);
}

function union<T>(a: T[] | undefined, b: T[] | undefined): T[] | undefined {
  if (!a && !b) return undefined;
  return [...new Set([...(a ?? []), ...(b ?? [])])].sort();
}

/** Folds `from` into `into`: sources and paths add up; the first known memory figure stays. */
function absorb(into: GpuProcess, from: GpuProcess): void {
  into.sources = [...new Set([...into.sources, ...from.sources])];
  if (into.usedBytes === null) into.usedBytes = from.usedBytes;
  if (KIND_RANK[from.kind] < KIND_RANK[into.kind]) into.kind = from.kind;
  const paths = union(into.devicePaths, from.devicePaths);
  if (paths) into.devicePaths = paths;
  into.deviceMinor ??= from.deviceMinor;
  into.gpuInstanceId ??= from.gpuInstanceId;
  into.computeInstanceId ??= from.computeInstanceId;
  for (const k of Object.keys(into) as (keyof GpuProcess)[]) if (into[k] === undefined) delete into[k];
}

/**
 * Merges probe views, earlier views taking precedence (NVML, then nvidia-smi, then procfs).
 * - Devices come from the first view that names any; others fill gaps (matched by uuid or bus id).
 * - An fd holder's /dev/nvidiaN minor becomes a device index through the devices' minor numbers.
 * - A pid that a memory probe (NVML, nvidia-smi) named absorbs its fd-holder entries: one entry
 *   with both sources. CUDA opens every visible /dev/nvidiaN, so the fds alone would list a
 *   process on GPUs it does not use; the memory probe's devices are the truth.
 * - A holder no memory probe named stays, with usedBytes null: a container's process, or one the
 *   caller may not see through NVML.
 */
export function mergeGpuViews(views: GpuView[]): GpuView {
  const devices = mergeDevices(views);
  const indexByMinor = new Map<number, number>();
  for (const d of devices) if (d.minor !== undefined) indexByMinor.set(d.minor, d.index);
  const all = views.flatMap((v) => v.processes).map((p) => {
    const copy: GpuProcess = { ...p, sources: [...p.sources] };
    if (copy.device === -1 && copy.deviceMinor !== undefined) copy.device = indexByMinor.get(copy.deviceMinor) ?? -1;
    return copy;
  });
  const byKey = new Map<string, GpuProcess>();
  const fdOnly: GpuProcess[] = [];
  for (const p of all) {
    if (p.kind === 'device-fd') {
      fdOnly.push(p);
      continue;
    }
    const key = `${p.pid}:${p.device}`;
    const have = byKey.get(key);
    if (have) absorb(have, p);
    else byKey.set(key, p);
  }
  const named = [...byKey.values()];
  for (const h of fdOnly) {
    const ofPid = named.filter((p) => p.pid === h.pid);
    if (ofPid.length) {
      const onDevice = ofPid.filter((p) => p.device === h.device && h.device !== -1);
      // the minor only describes the entry on the same device
      for (const p of onDevice.length ? onDevice : ofPid) absorb(p, onDevice.length ? h : { ...h, deviceMinor: undefined });
      continue;
    }
    const key = `${h.pid}:${h.device}:${h.deviceMinor ?? ''}`;
    const have = byKey.get(key);
    if (have) absorb(have, h);
    else byKey.set(key, h);
  }
  const processes = [...byKey.values()].sort((a, b) => a.device - b.device || a.pid - b.pid);
  return { devices, processes, probes: views.flatMap((v) => v.probes) };
}
