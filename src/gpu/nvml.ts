import {
  DRIVER_VERSION_BUFFER_SIZE, MEMORY_STRUCT_SIZE, NAME_BUFFER_SIZE, NVML_ERROR_INSUFFICIENT_SIZE,
  NVML_ERROR_NOT_SUPPORTED, NVML_SUCCESS, UUID_BUFFER_SIZE, loadNvml, readCString,
  type NvmlHandle, type NvmlLib, type ProcessQuery,
} from './nvml-bindings.ts';
import { SENTINEL_BYTE, chooseStructSize, parseProcessInfos, type NvmlProcessInfo, type StructSizeChoice } from './nvml-process-info.ts';
import { makeEmptyView, type GpuDevice, type GpuProcess, type GpuProcessKind, type GpuView } from './types.ts';

export interface NvmlProbeOptions {
  /** soname or path of the library (default libnvidia-ml.so.1); tests point it at a fake */
  library?: string;
}

// Room per entry in the process buffer: twice the largest known struct, so a driver with a
// still larger struct cannot write past the end while the sentinel shows what it did write.
const ENTRY_ALLOWANCE = 64;
// Processes start between the sizing call and the filling call; a few spare entries save a round.
const SPARE_ENTRIES = 4;
const MAX_ATTEMPTS = 5;

interface ProcessQueryResult {
  infos: NvmlProcessInfo[];
  choice?: StructSizeChoice;
  error?: number;
}

/** The sizing loop: ask for the count, allocate, ask again while the driver says INSUFFICIENT_SIZE. */
export function queryProcesses(query: ProcessQuery, device: NvmlHandle, driverVersion?: string): ProcessQueryResult {
  let capacity = 0;
  for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
    const count = [capacity];
    const buf = capacity > 0 ? Buffer.alloc(capacity * ENTRY_ALLOWANCE, SENTINEL_BYTE) : null;
    const rc = query(device, count, buf);
    const n = count[0] ?? 0;
    if (rc === NVML_SUCCESS && (n === 0 || buf)) {
      if (n === 0 || !buf) return { infos: [] };
      const choice = chooseStructSize(buf, n, { sentinelFilled: true, driverVersion });
      const infos = parseProcessInfos(buf, n, choice.size).filter((p) => p.pid > 0);
      return { infos, choice };
    }
    if (rc !== NVML_SUCCESS && rc !== NVML_ERROR_INSUFFICIENT_SIZE) return { infos: [], error: rc };
    capacity = Math.max(n, capacity) + SPARE_ENTRIES;
  }
  return { infos: [], error: NVML_ERROR_INSUFFICIENT_SIZE };
}

function readString(fn: (d: NvmlHandle, b: Buffer, l: number) => number, device: NvmlHandle, size: number): string | undefined {
  const buf = Buffer.alloc(size);
  return fn(device, buf, size) === NVML_SUCCESS ? readCString(buf) : undefined;
}

function readDevice(lib: NvmlLib, index: number, device: NvmlHandle): GpuDevice {
  const dev: GpuDevice = { index, source: 'nvml' };
  const uuid = readString(lib.uuid, device, UUID_BUFFER_SIZE);
  if (uuid) dev.uuid = uuid;
  const name = readString(lib.name, device, NAME_BUFFER_SIZE);
  if (name) dev.name = name;
  const minor = [0];
  if (lib.minor(device, minor) === NVML_SUCCESS) dev.minor = minor[0]!;
  const mem = Buffer.alloc(MEMORY_STRUCT_SIZE);
  if (lib.memoryInfo(device, mem) === NVML_SUCCESS) {
    dev.memTotalBytes = Number(mem.readBigUInt64LE(0));
    dev.memUsedBytes = Number(mem.readBigUInt64LE(16));
  }
  // nvmlUtilization_t { unsigned gpu, memory }: percent of the driver's last sample period; NOT_SUPPORTED on some boards
  const util = Buffer.alloc(8);
  if (lib.utilization?.(device, util) === NVML_SUCCESS) dev.utilPercent = util.readUInt32LE(0);
  return dev;
}

function toProcesses(index: number, infos: NvmlProcessInfo[], kind: GpuProcessKind): GpuProcess[] {
  return infos.map((p) => {
    const out: GpuProcess = { pid: p.pid, device: index, usedBytes: p.usedBytes, kind, sources: ['nvml'] };
    if (p.gpuInstanceId !== null) out.gpuInstanceId = p.gpuInstanceId;
    if (p.computeInstanceId !== null) out.computeInstanceId = p.computeInstanceId;
    return out;
  });
}

/** A process in both lists (a CUDA app that also renders) is one entry, counted as compute. */
function addProcess(list: GpuProcess[], p: GpuProcess): void {
  const same = list.find((q) => q.pid === p.pid && q.device === p.device);
  if (!same) return void list.push(p);
  if (same.usedBytes === null || (p.usedBytes !== null && p.usedBytes > same.usedBytes)) same.usedBytes = p.usedBytes;
}

/** Devices, memory and per-process use through NVML. Never throws: a missing driver is a normal state. */
export function probeNvml(opts: NvmlProbeOptions = {}): GpuView {
  const library = opts.library ?? 'libnvidia-ml.so.1';
  let lib: NvmlLib;
  try {
    lib = loadNvml(library);
  } catch (err) {
    return makeEmptyView({ name: 'nvml', ok: false, error: `${library} not loadable: ${(err as Error).message}` });
  }
  const rc = lib.init();
  if (rc !== NVML_SUCCESS) return makeEmptyView({ name: 'nvml', ok: false, error: `nvmlInit_v2: ${lib.errorString(rc)}` });
  try {
    return collect(lib);
  } catch (err) {
    return makeEmptyView({ name: 'nvml', ok: false, error: `NVML query failed: ${(err as Error).message}` });
  } finally {
    lib.shutdown();
  }
}

function collect(lib: NvmlLib): GpuView {
  const warnings: string[] = [];
  const verBuf = Buffer.alloc(DRIVER_VERSION_BUFFER_SIZE);
  const driverVersion = lib.driverVersion(verBuf, DRIVER_VERSION_BUFFER_SIZE) === NVML_SUCCESS ? readCString(verBuf) : undefined;
  const count = [0];
  const rc = lib.deviceCount(count);
  if (rc !== NVML_SUCCESS) return makeEmptyView({ name: 'nvml', ok: false, error: `nvmlDeviceGetCount_v2: ${lib.errorString(rc)}` });
  if (count[0] === 0) return makeEmptyView({ name: 'nvml', ok: false, error: 'NVML loaded but reports no devices' });
  const devices: GpuDevice[] = [];
  const processes: GpuProcess[] = [];
  const layouts = new Set<string>();
  for (let index = 0; index < count[0]!; index++) {
    const handle: NvmlHandle[] = [null];
    const hrc = lib.handleByIndex(index, handle);
    if (hrc !== NVML_SUCCESS) {
      // e.g. NO_PERMISSION for a GPU a container or cgroup hides; the others still count
      warnings.push(`device ${index}: ${lib.errorString(hrc)}`);
      continue;
    }
    devices.push(readDevice(lib, index, handle[0]));
    for (const [kind, query] of [['compute', lib.computeProcesses], ['graphics', lib.graphicsProcesses]] as const) {
      const res = queryProcesses(query, handle[0], driverVersion);
      if (res.error !== undefined && res.error !== NVML_ERROR_NOT_SUPPORTED) {
        warnings.push(`device ${index} ${kind} processes: ${lib.errorString(res.error)}`);
      }
      if (res.choice) layouts.add(`${res.choice.size} bytes (${res.choice.reason})`);
      for (const p of toProcesses(index, res.infos, kind)) addProcess(processes, p);
    }
  }
  if (devices.length === 0) {
    return makeEmptyView({ name: 'nvml', ok: false, error: `no device could be opened: ${warnings.join('; ')}` });
  }
  const detail = [`driver ${driverVersion ?? 'unknown'}`, `process api ${lib.processApi}`];
  if (layouts.size) detail.push(`process entries: ${[...layouts].join('; ')}`);
  const probe = { name: 'nvml' as const, ok: true, detail: detail.join(', '), ...(warnings.length ? { warnings } : {}) };
  return { devices, processes, probes: [probe] };
}
