import { requireKoffi } from '../os/koffi.ts';

// koffi is loaded lazily (in loadNvml) so commands that never look at GPUs do not pay for it.

export const NVML_SUCCESS = 0;
export const NVML_ERROR_NOT_SUPPORTED = 3;
export const NVML_ERROR_INSUFFICIENT_SIZE = 7;

// Buffer sizes from nvml.h (the _V2_ ones are the larger, current ones).
export const UUID_BUFFER_SIZE = 96;
export const NAME_BUFFER_SIZE = 96;
export const DRIVER_VERSION_BUFFER_SIZE = 80;
/** nvmlMemory_t: unsigned long long total, free, used */
export const MEMORY_STRUCT_SIZE = 24;

/** An nvmlDevice_t: an opaque pointer koffi hands back as an External. */
export type NvmlHandle = unknown;
export type ProcessQuery = (device: NvmlHandle, count: number[], infos: Buffer | null) => number;

export interface NvmlLib {
  init: () => number;
  shutdown: () => number;
  errorString: (code: number) => string;
  driverVersion: (out: Buffer, length: number) => number;
  deviceCount: (out: number[]) => number;
  handleByIndex: (index: number, out: NvmlHandle[]) => number;
  uuid: (device: NvmlHandle, out: Buffer, length: number) => number;
  name: (device: NvmlHandle, out: Buffer, length: number) => number;
  minor: (device: NvmlHandle, out: number[]) => number;
  memoryInfo: (device: NvmlHandle, out: Buffer) => number;
  /** nvmlDeviceGetUtilizationRates (gpu %, memory %); undefined where the library lacks it */
  utilization?: (device: NvmlHandle, out: Buffer) => number;
  computeProcesses: ProcessQuery;
  graphicsProcesses: ProcessQuery;
  /** which symbol the process queries bound to: _v3 where the driver has it (R510+), else _v2 */
  processApi: 'v3' | 'v2';
}

const cache = new Map<string, NvmlLib>();

interface KoffiLib {
  func: (decl: string) => (...args: unknown[]) => unknown;
}

/** Binds the first symbol of `names` the library exports (older drivers lack the _v3 ones). */
function bindFirst(lib: KoffiLib, decl: (name: string) => string, names: string[]): [(...a: unknown[]) => unknown, string] {
  let last: unknown;
  for (const name of names) {
    try {
      return [lib.func(decl(name)), name];
    } catch (err) {
      last = err;
    }
  }
  throw last;
}

/** A binding that some libraries lack (a stand-in, a stub): undefined instead of failing the whole load. */
function optional<T>(bind: () => T): T | undefined {
  try {
    return bind();
  } catch {
    return undefined;
  }
}

/**
 * Loads NVML from `path` (a soname resolved by the dynamic loader, or a file path). Throws when
 * the library or koffi cannot be loaded; callers turn that into "no NVIDIA driver here".
 * Successful loads are cached: dlopen is reference-counted and binding costs a little each time.
 */
export function loadNvml(path = 'libnvidia-ml.so.1'): NvmlLib {
  const hit = cache.get(path);
  if (hit) return hit;
  const koffi = requireKoffi();
  const lib = koffi.load(path) as KoffiLib;
  const f = (decl: string) => lib.func(decl) as (...a: unknown[]) => number;
  const errorString = lib.func('const char *nvmlErrorString(int result)') as (c: number) => string;
  const procDecl = (name: string) => `int ${name}(void *device, _Inout_ unsigned int *infoCount, void *infos)`;
  const [compute, computeName] = bindFirst(lib, procDecl, [
    'nvmlDeviceGetComputeRunningProcesses_v3', 'nvmlDeviceGetComputeRunningProcesses_v2',
  ]);
  const [graphics] = bindFirst(lib, procDecl, [
    'nvmlDeviceGetGraphicsRunningProcesses_v3', 'nvmlDeviceGetGraphicsRunningProcesses_v2',
  ]);
  const bound: NvmlLib = {
    init: f('int nvmlInit_v2()'),
    shutdown: f('int nvmlShutdown()'),
    errorString: (code) => errorString(code) ?? `NVML error ${code}`,
    driverVersion: f('int nvmlSystemGetDriverVersion(void *version, unsigned int length)'),
    deviceCount: f('int nvmlDeviceGetCount_v2(_Out_ unsigned int *deviceCount)'),
    handleByIndex: f('int nvmlDeviceGetHandleByIndex_v2(unsigned int index, _Out_ void **device)'),
    uuid: f('int nvmlDeviceGetUUID(void *device, void *uuid, unsigned int length)'),
    name: f('int nvmlDeviceGetName(void *device, void *name, unsigned int length)'),
    minor: f('int nvmlDeviceGetMinorNumber(void *device, _Out_ unsigned int *minorNumber)'),
    memoryInfo: f('int nvmlDeviceGetMemoryInfo(void *device, void *memory)'),
    utilization: optional(() => f('int nvmlDeviceGetUtilizationRates(void *device, void *utilization)')),
    computeProcesses: compute as ProcessQuery,
    graphicsProcesses: graphics as ProcessQuery,
    processApi: computeName.endsWith('_v3') ? 'v3' : 'v2',
  };
  cache.set(path, bound);
  return bound;
}

/** A NUL-terminated C string out of a fixed-size buffer. */
export function readCString(buf: Buffer): string {
  const end = buf.indexOf(0);
  return buf.toString('utf8', 0, end < 0 ? buf.length : end);
}
