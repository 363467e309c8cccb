/**
 * Raw parsing of the buffer nvmlDeviceGet{Compute,Graphics}RunningProcesses_v3 fills.
 *
 * Two layouts exist behind the same _v3 symbol (little-endian, natural alignment):
 *   24 bytes, nvmlProcessInfo_t:  u32 pid; u32 pad; u64 usedGpuMemory; u32 gpuInstanceId; u32 computeInstanceId
 *   32 bytes, the R535 detail struct: the same, then u64 usedGpuCcProtectedMemory
 * Early R535 drivers (535.54 and others of CUDA 12.2) write the 32-byte one without a version
 * bump; tools that assumed 24 bytes read pids as memory and the other way round
 * (pynvml #48/#50, nvitop #79, go-nvml #75). So the size is measured, not assumed.
 */

/** usedGpuMemory when the driver cannot tell (e.g. under WDDM or without permission). */
export const NVML_VALUE_NOT_AVAILABLE_ULL = 0xffff_ffff_ffff_ffffn;
/** gpuInstanceId / computeInstanceId when MIG is off. */
export const NVML_VALUE_NOT_AVAILABLE_UINT = 0xffff_ffff;
/** Byte the caller fills the buffer with before the call, to see how far the driver wrote. */
export const SENTINEL_BYTE = 0xaa;

export type ProcessInfoSize = 24 | 32;

export interface NvmlProcessInfo {
  pid: number;
  /** null when the driver says "not available" */
  usedBytes: number | null;
  gpuInstanceId: number | null;
  computeInstanceId: number | null;
  /** only in the 32-byte layout */
  ccProtectedBytes?: number | null;
}

function readUll(buf: Buffer, at: number): number | null {
  const v = buf.readBigUInt64LE(at);
  return v === NVML_VALUE_NOT_AVAILABLE_ULL ? null : Number(v);
}

function readInstance(buf: Buffer, at: number): number | null {
  const v = buf.readUInt32LE(at);
  return v === NVML_VALUE_NOT_AVAILABLE_UINT ? null : v;
}

/** Parses `count` entries of `structSize` bytes. Throws RangeError when the buffer is too short. */
export function parseProcessInfos(buf: Buffer, count: number, structSize: ProcessInfoSize): NvmlProcessInfo[] {
  if (buf.length < count * structSize) {
    throw new RangeError(`process buffer holds ${buf.length} bytes, ${count} x ${structSize} needed`);
  }
  const out: NvmlProcessInfo[] = [];
  for (let i = 0; i < count; i++) {
    const at = i * structSize;
    const info: NvmlProcessInfo = {
      pid: buf.readUInt32LE(at),
      usedBytes: readUll(buf, at + 8),
      gpuInstanceId: readInstance(buf, at + 16),
      computeInstanceId: readInstance(buf, at + 20),
    };
    if (structSize === 32) info.ccProtectedBytes = readUll(buf, at + 24);
    out.push(info);
  }
  return out;
}

// pid_max can be at most 2^22 on 64-bit Linux; 2^48 bytes is far beyond any GPU's memory; MIG
// has at most a handful of instances. A misread layout puts memory sizes in pid fields and
// pids in memory fields, so these bounds catch it.
const PID_MAX_LIMIT = 4_194_304;
const MEMORY_LIMIT = 2 ** 48;
const INSTANCE_LIMIT = 64;

/** True when every entry read with this layout looks like real data. */
export function looksPlausible(buf: Buffer, count: number, structSize: ProcessInfoSize): boolean {
  if (buf.length < count * structSize) return false;
  return parseProcessInfos(buf, count, structSize).every((p) =>
    p.pid > 0 && p.pid <= PID_MAX_LIMIT &&
    (p.usedBytes === null || p.usedBytes < MEMORY_LIMIT) &&
    (p.gpuInstanceId === null || p.gpuInstanceId < INSTANCE_LIMIT) &&
    (p.computeInstanceId === null || p.computeInstanceId < INSTANCE_LIMIT) &&
    (p.ccProtectedBytes === undefined || p.ccProtectedBytes === null || p.ccProtectedBytes < MEMORY_LIMIT));
}

/** True when the driver wrote past count x 24 bytes into a buffer pre-filled with SENTINEL_BYTE. */
export function wrotePast24(buf: Buffer, count: number): boolean {
  const end = Math.min(buf.length, count * 32);
  for (let i = count * 24; i < end; i++) if (buf[i] !== SENTINEL_BYTE) return true;
  return false;
}

/** R535 is the generation known to write the 32-byte struct through the _v3 symbol. */
export function driverPrefers32(driverVersion: string | undefined): boolean {
  return driverVersion !== undefined && /^535\./.test(driverVersion);
}

export interface StructSizeChoice {
  size: ProcessInfoSize;
  reason: string;
}

/**
 * Picks the layout of a filled buffer. Evidence in order of strength:
 *  1. how far the driver wrote (buffer pre-filled with SENTINEL_BYTE, sized for 32-byte entries):
 *     a 24-byte driver leaves bytes [24n, 32n) untouched; a 32-byte one writes them;
 *  2. plausibility of the entries read each way (overrides 1 only when 1's reading is implausible
 *     and the other is plausible, which guards against a driver that happens to write 0xAA);
 *  3. the driver version, when the buffer cannot tell (no sentinel and both readings plausible;
 *     with one entry both readings of entry 0 coincide anyway).
 */
export function chooseStructSize(
  buf: Buffer, count: number, opts: { sentinelFilled: boolean; driverVersion?: string },
): StructSizeChoice {
  const byVersion: ProcessInfoSize = driverPrefers32(opts.driverVersion) ? 32 : 24;
  if (count === 0) return { size: byVersion, reason: 'no entries' };
  const ok24 = looksPlausible(buf, count, 24);
  const ok32 = looksPlausible(buf, count, 32);
  if (opts.sentinelFilled) {
    const written: ProcessInfoSize = wrotePast24(buf, count) ? 32 : 24;
    const other: ProcessInfoSize = written === 32 ? 24 : 32;
    const okWritten = written === 32 ? ok32 : ok24;
    const okOther = written === 32 ? ok24 : ok32;
    if (okWritten || !okOther) return { size: written, reason: `driver wrote ${written}-byte entries` };
    return { size: other, reason: `${written}-byte reading implausible, ${other}-byte plausible` };
  }
  if (ok24 !== ok32) return { size: ok24 ? 24 : 32, reason: 'only one reading is plausible' };
  return { size: byVersion, reason: `driver version ${opts.driverVersion ?? 'unknown'}` };
}
