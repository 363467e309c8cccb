import { execFile } from 'node:child_process';
import { makeEmptyView, normalizePciBusId, type GpuDevice, type GpuProcess, type GpuView } from './types.ts';

export const QUERY_GPU_ARGS = [
  '--query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id', '--format=csv,noheader,nounits',
];
export const QUERY_APPS_ARGS = ['--query-compute-apps=pid,gpu_uuid,used_memory', '--format=csv,noheader,nounits'];

const MIB = 1024 * 1024;

/**
 * One CSV field. nvidia-smi writes "[N/A]", "[Not Supported]", "[Insufficient Permissions]",
 * "[Unknown Error]" (all bracketed) or, on some versions, a bare "N/A" where it has no value.
 */
function field(raw: string | undefined): string | undefined {
  const v = raw?.trim();
  if (!v || v.startsWith('[') || v === 'N/A') return undefined;
  return v;
}

function mibToBytes(raw: string | undefined): number | undefined {
  const v = field(raw);
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isFinite(n) && n >= 0 ? Math.round(n * MIB) : undefined;
}

/** Lines of CSV output; blank lines and a "No running processes found" banner carry no rows. */
function rows(text: string, columns: number): string[][] {
  const out: string[][] = [];
  for (const line of text.split(/\r?\n/)) {
    if (!line.trim()) continue;
    const cells = line.split(',');
    // GPU names hold no commas today; should one appear, the name is the middle that is left over
    if (cells.length > columns && columns === 6) cells.splice(2, cells.length - 5, cells.slice(2, cells.length - 3).join(','));
    if (cells.length === columns) out.push(cells);
  }
  return out;
}

/** Parses `--query-gpu=index,uuid,name,memory.total,memory.used,pci.bus_id` (noheader, nounits: MiB). */
export function parseQueryGpu(text: string): GpuDevice[] {
  const devices: GpuDevice[] = [];
  for (const [index, uuid, name, total, used, bus] of rows(text, 6)) {
    const i = Number(field(index));
    if (!Number.isInteger(i) || i < 0) continue;
    const dev: GpuDevice = { index: i, source: 'nvidia-smi' };
    const u = field(uuid);
    if (u) dev.uuid = u;
    const n = field(name);
    if (n) dev.name = n;
    const t = mibToBytes(total);
    if (t !== undefined) dev.memTotalBytes = t;
    const m = mibToBytes(used);
    if (m !== undefined) dev.memUsedBytes = m;
    const b = field(bus);
    if (b) dev.pciBusId = normalizePciBusId(b);
    devices.push(dev);
  }
  return devices;
}

/** Parses `--query-compute-apps=pid,gpu_uuid,used_memory`; the uuid is mapped to an index through `devices`. */
export function parseQueryComputeApps(text: string, devices: GpuDevice[]): GpuProcess[] {
  const procs: GpuProcess[] = [];
  for (const [pid, uuid, used] of rows(text, 3)) {
    const p = Number(field(pid));
    if (!Number.isInteger(p) || p <= 0) continue;
    const u = field(uuid);
    const dev = u ? devices.find((d) => d.uuid === u) : undefined;
    procs.push({ pid: p, device: dev?.index ?? -1, usedBytes: mibToBytes(used) ?? null, kind: 'compute', sources: ['nvidia-smi'] });
  }
  return procs;
}

export interface NvidiaSmiOptions {
  /** binary to run (default: nvidia-smi from PATH) */
  path?: string;
  /** a hung driver can make nvidia-smi block for minutes; default 10 s */
  timeoutMs?: number;
}

function runSmi(path: string, args: string[], timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(path, args, { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 4 * MIB }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: string | number };
      if (e.code === 'ENOENT') return reject(new Error(`${path} not found`));
      if (e.killed) return reject(new Error(`${path} timed out after ${timeoutMs} ms`));
      // nvidia-smi prints its own failures ("couldn't communicate with the NVIDIA driver") on stdout
      const said = `${stdout}\n${stderr}`.split('\n').map((l) => l.trim()).find(Boolean);
      reject(new Error(`${path} exited with ${e.code}${said ? `: ${said}` : ''}`));
    });
  });
}

/** Devices and compute processes through nvidia-smi CSV. Never rejects: a missing binary is a normal state. */
export async function probeNvidiaSmi(opts: NvidiaSmiOptions = {}): Promise<GpuView> {
  const path = opts.path ?? 'nvidia-smi';
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const [gpus, apps] = await Promise.allSettled([
    runSmi(path, QUERY_GPU_ARGS, timeoutMs), runSmi(path, QUERY_APPS_ARGS, timeoutMs),
  ]);
  if (gpus.status === 'rejected') return makeEmptyView({ name: 'nvidia-smi', ok: false, error: (gpus.reason as Error).message });
  const devices = parseQueryGpu(gpus.value);
  if (devices.length === 0) return makeEmptyView({ name: 'nvidia-smi', ok: false, error: 'nvidia-smi lists no devices' });
  if (apps.status === 'rejected') {
    const warnings = [`compute apps: ${(apps.reason as Error).message}`];
    return { devices, processes: [], probes: [{ name: 'nvidia-smi', ok: true, warnings }] };
  }
  return { devices, processes: parseQueryComputeApps(apps.value, devices), probes: [{ name: 'nvidia-smi', ok: true }] };
}
