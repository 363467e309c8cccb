import { spawn, type ChildProcess } from 'node:child_process';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';
import { mergeGpuViews } from '../gpu/merge.ts';
import { gpuNodesIn, probeProcfs } from '../gpu/probe.ts';
import type { GpuView } from '../gpu/types.ts';
import { gpuProbeOptions } from '../strays/gpu-view.ts';
import { GPU_HELPER_ARG } from './gpu-helper.ts';

/** How long one GPU probe may take before the guard scans with /proc alone. */
export const GPU_PROBE_DEADLINE_MS = 10_000;
/** After a hung probe, this many scans use /proc alone before a new probe process is tried. */
const SCANS_AFTER_HANG = 10;

/** The probe process's argv: this Node with gpu-helper-main (.ts or, in the package, .js), or the single-file binary itself. */
function helperCommand(): [string, ...string[]] {
  if (isSea()) return [process.execPath, GPU_HELPER_ARG];
  return [process.execPath, fileURLToPath(new URL(`./gpu-helper-main${extname(fileURLToPath(import.meta.url))}`, import.meta.url))];
}

interface Helper {
  child: ChildProcess;
  answers: string[];
  waiting?: () => void;
}

let helper: Helper | null = null;
let skipScans = 0;
const userProbes = process.env.CORRAL_GPU_PROBES;

/**
 * NVML and nvidia-smi run in a long-lived probe process (gpu-helper-main.ts); this process itself never
 * calls NVML again (CORRAL_GPU_PROBES without nvml here, so reap's after-view cannot hang either).
 */
function startHelper(): Helper {
  process.env.CORRAL_GPU_PROBES = (userProbes ?? 'nvml,nvidia-smi,procfs').split(',').filter((p) => p.trim() !== 'nvml').join(',') || 'procfs';
  const env = { ...process.env };
  if (userProbes === undefined) delete env.CORRAL_GPU_PROBES;
  else env.CORRAL_GPU_PROBES = userProbes;
  const [program, ...args] = helperCommand();
  const child = spawn(program, args, { env, stdio: ['pipe', 'pipe', 'ignore'] });
  const h: Helper = { child, answers: [] };
  createInterface({ input: child.stdout! }).on('line', (line) => {
    h.answers.push(line);
    h.waiting?.();
  });
  child.on('exit', () => {
    if (helper === h) helper = null;
    h.waiting?.();
  });
  child.stdin!.on('error', () => {});
  // the guard may end with the helper idle: it sees end-of-file on stdin and exits by itself
  child.unref();
  (child.stdin as unknown as { unref?: () => void }).unref?.();
  (child.stdout as unknown as { unref?: () => void }).unref?.();
  return h;
}

async function askHelper(deadlineMs: number): Promise<GpuView | null> {
  helper ??= startHelper();
  const h = helper;
  h.answers.length = 0;
  h.child.stdin!.write('probe\n');
  let timer: NodeJS.Timeout | undefined;
  const answered = await new Promise<boolean>((resolve) => {
    h.waiting = () => resolve(h.answers.length > 0);
    timer = setTimeout(() => resolve(false), deadlineMs);
  });
  clearTimeout(timer);
  h.waiting = undefined;
  if (answered) return JSON.parse(h.answers.shift()!) as GpuView;
  // our own unreaped child: its pid cannot name another process until its exit event
  if (h.child.exitCode === null && h.child.signalCode === null) h.child.kill('SIGKILL');
  if (helper === h) helper = null;
  return null;
}

/**
 * The GPU view within a deadline: NVML/nvidia-smi from the probe process, device holders from /proc here.
 * A probe that does not answer in time is killed and the scan goes on with /proc alone; the next few
 * scans skip the probe, so a driver that hangs every call costs one deadline per SCANS_AFTER_HANG scans.
 */
export async function probeGpusWithDeadline(deadlineMs = Number(process.env.CORRAL_GUARD_GPU_DEADLINE_MS) || GPU_PROBE_DEADLINE_MS): Promise<GpuView> {
  const views: GpuView[] = [];
  const opts = gpuProbeOptions();
  // no NVIDIA device node and no library named: NVML and nvidia-smi have nothing to ask (probeGpus skips them too)
  const none = !gpuNodesIn(opts.holders?.devDir ?? '/dev').nvidia && opts.nvmlLibrary === undefined;
  if (none) {
    views.push({ devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error: 'no NVIDIA device nodes (no driver loaded)' }] });
  } else if (skipScans > 0) {
    skipScans--;
    views.push({ devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error: `skipped: a probe hung earlier (/proc alone for ${skipScans + 1} more scans)` }] });
  } else {
    const view = await askHelper(deadlineMs);
    if (view) views.push(view);
    else {
      skipScans = SCANS_AFTER_HANG;
      views.push({ devices: [], processes: [], probes: [{ name: 'nvml', ok: false, error: `no answer within ${deadlineMs}ms: scanned with /proc alone` }] });
    }
  }
  if (userProbes === undefined || userProbes.includes('procfs')) views.push(probeProcfs(opts));
  return mergeGpuViews(views);
}
