import { readFileSync } from 'node:fs';
import { listPids } from '../proc/snapshot.ts';
import { listFds, readDeviceRdev, type DeviceNumber } from '../proc/fds.ts';
import type { GpuProcess } from './types.ts';

/** The fixed character-device major of the NVIDIA driver (nvidiactl is 195:255, modeset 195:254). */
export const NVIDIA_MAJOR = 195;

/** Holders that are the machine's own GPU plumbing, not experiment workloads. */
export const DEFAULT_IGNORED_NAMES = [
  'nvidia-persistenced', 'Xorg', 'X', 'Xwayland', 'gnome-shell', 'kwin_wayland', 'kwin_x11',
  'mutter', 'sway', 'weston', 'Hyprland', 'cosmic-comp', 'gdm-x-session', 'sddm-greeter',
];

export type DeviceHoldKind = 'nvidia' | 'nvidia-shared' | 'amd-kfd' | 'amd-render';

export interface DeviceHold {
  kind: DeviceHoldKind;
  path: string;
  /** for 'nvidia': the GPU minor; for 'amd-render': N of renderDN */
  minor?: number;
}

/**
 * What an fd target is, for the device nodes corral cares about. `rdev` (from stat of the fd)
 * overrides the name: a container started with --device /dev/nvidia3:/dev/nvidia0 names the
 * node nvidia0 but it is still minor 3, and NVML reports host minors.
 * nvidiactl, nvidia-uvm and friends are opened by every CUDA or NVML user whatever GPU it
 * uses, so they are 'nvidia-shared': evidence, never a device of their own.
 */
export function classifyDevicePath(target: string, devDir = '/dev', rdev?: DeviceNumber | null): DeviceHold | null {
  if (!target.startsWith(devDir + '/')) return null;
  const rest = target.slice(devDir.length + 1);
  if (rest === 'kfd') return { kind: 'amd-kfd', path: target };
  let m = /^dri\/renderD(\d+)$/.exec(rest);
  if (m) return { kind: 'amd-render', path: target, minor: Number(m[1]) };
  m = /^nvidia(\d+)$/.exec(rest);
  if (m) {
    const minor = rdev && rdev.major === NVIDIA_MAJOR && rdev.minor < 254 ? rdev.minor : Number(m[1]);
    return { kind: 'nvidia', path: target, minor };
  }
  if (/^nvidia(ctl|-uvm|-uvm-tools|-modeset)$/.test(rest)) return { kind: 'nvidia-shared', path: target };
  return null;
}

export interface DeviceHolder {
  pid: number;
  comm: string;
  holds: DeviceHold[];
}

export interface HolderScanOptions {
  /** where device nodes live (default /dev); tests point it at a directory of plain files */
  devDir?: string;
  procRoot?: string;
  /** only these pids (default: every pid in /proc) */
  pids?: number[];
  /** default: corral itself, whose own NVML session opens the nodes while it probes */
  excludePids?: number[];
  /** comm or argv[0] basenames to leave out (default DEFAULT_IGNORED_NAMES) */
  ignoreNames?: string[];
}

function readName(procRoot: string, pid: number): { comm: string; argv0: string } {
  const read = (f: string) => {
    try {
      return readFileSync(`${procRoot}/${pid}/${f}`, 'latin1');
    } catch {
      return '';
    }
  };
  const argv0 = read('cmdline').split('\0')[0] ?? '';
  return { comm: read('comm').trim(), argv0: argv0.slice(argv0.lastIndexOf('/') + 1) };
}

/** Processes with an open fd on a GPU device node. Unreadable processes (other users, no root) are skipped. */
export function scanDeviceHolders(opts: HolderScanOptions = {}): DeviceHolder[] {
  const devDir = opts.devDir ?? '/dev';
  const procRoot = opts.procRoot ?? '/proc';
  const exclude = new Set(opts.excludePids ?? [process.pid]);
  const ignore = new Set(opts.ignoreNames ?? DEFAULT_IGNORED_NAMES);
  const holders: DeviceHolder[] = [];
  for (const pid of opts.pids ?? listPids()) {
    if (exclude.has(pid)) continue;
    const holds: DeviceHold[] = [];
    for (const { fd, target } of listFds(pid, procRoot)) {
      if (!target.startsWith(devDir + '/')) continue;
      const hold = classifyDevicePath(target, devDir, readDeviceRdev(`${procRoot}/${pid}/fd/${fd}`));
      if (hold && !holds.some((h) => h.path === hold.path)) holds.push(hold);
    }
    if (!holds.some((h) => h.kind !== 'nvidia-shared')) continue;
    const { comm, argv0 } = readName(procRoot, pid);
    if (ignore.has(comm) || ignore.has(argv0)) continue;
    holders.push({ pid, comm, holds });
  }
  return holders;
}

/**
 * One entry per NVIDIA GPU held (device -1 until the merge maps the minor to an index), or one
 * entry with device -1 for AMD nodes: /dev/kfd is shared by all AMD GPUs and renderD numbers
 * follow DRM probe order, which no probe here maps to an index.
 */
export function holdersToProcesses(holders: DeviceHolder[]): GpuProcess[] {
  const out: GpuProcess[] = [];
  for (const h of holders) {
    const devicePaths = h.holds.map((d) => d.path).sort();
    const base = { pid: h.pid, device: -1, usedBytes: null, kind: 'device-fd' as const, sources: ['procfs' as const] };
    const minors = [...new Set(h.holds.filter((d) => d.kind === 'nvidia').map((d) => d.minor!))].sort((a, b) => a - b);
    for (const minor of minors) out.push({ ...base, sources: [...base.sources], deviceMinor: minor, devicePaths });
    if (h.holds.some((d) => d.kind === 'amd-kfd' || d.kind === 'amd-render')) {
      out.push({ ...base, sources: [...base.sources], devicePaths });
    }
  }
  return out;
}
