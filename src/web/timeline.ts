import type { GpuView } from '../gpu/types.ts';
import type { StrayScan } from '../strays/scan.ts';

const MIB = 2 ** 20;
/** Users named in one sample; the rest are summed as "other", so a sample's size has a bound. */
const MAX_USERS = 16;

/** One moment of GPU memory: per device index and per user (by the owning uid of each GPU process). */
export interface TimelineSample {
  /** increasing number of the sample: a client asks for those after the last it has (the wall clock may step) */
  seq: number;
  /** wall-clock ms, for display only */
  at: number;
  /** device index -> used MiB */
  devices: Record<string, number>;
  /** user name -> MiB held by that user's processes (on all devices) */
  users: Record<string, number>;
}

export type SampleInput = Omit<TimelineSample, 'seq'>;

/**
 * GPU memory over the last hours: a ring buffer of a fixed number of samples (default 4,800: four
 * hours at one every 3 s), so memory stays bounded however long the dashboard or the guard runs.
 */
export class Timeline {
  readonly capacity: number;
  private readonly ring: TimelineSample[] = [];
  private next = 0;
  private seq = 0;

  constructor(opts: { capacity?: number } = {}) {
    this.capacity = Math.max(1, Math.floor(opts.capacity ?? 4800));
  }

  record(sample: SampleInput): TimelineSample {
    const s: TimelineSample = { ...sample, seq: ++this.seq };
    if (this.ring.length < this.capacity) this.ring.push(s);
    else this.ring[this.next] = s;
    this.next = (this.next + 1) % this.capacity;
    return s;
  }

  /** Oldest first; only those at or after `sinceMs` (wall clock) when given. */
  samples(sinceMs?: number): TimelineSample[] {
    const ordered = this.ring.length < this.capacity ? this.ring.slice() : [...this.ring.slice(this.next), ...this.ring.slice(0, this.next)];
    return sinceMs === undefined ? ordered : ordered.filter((s) => s.at >= sinceMs);
  }

  /** Oldest first, those recorded after sample number `seq` (what a polling page has not seen yet). */
  samplesAfter(seq: number): TimelineSample[] {
    return this.samples().filter((s) => s.seq > seq);
  }
}

/**
 * Used memory per device (the device's own figure where the probe gives one, else the sum of its
 * processes) and per user. `ownerOf` names the user of a pid (undefined: gone or hidden, shown as "?").
 */
export function sampleGpuMemory(gpu: GpuView, ownerOf: (pid: number) => string | undefined, at = Date.now()): SampleInput {
  const devices: Record<string, number> = {};
  const byProcess = new Map<number, number>();
  const users = new Map<string, number>();
  for (const p of gpu.processes) {
    if (p.usedBytes === null) continue;
    if (p.device >= 0) byProcess.set(p.device, (byProcess.get(p.device) ?? 0) + p.usedBytes);
    const user = ownerOf(p.pid) ?? '?';
    users.set(user, (users.get(user) ?? 0) + p.usedBytes);
  }
  for (const d of gpu.devices) devices[String(d.index)] = toMiB(d.memUsedBytes ?? byProcess.get(d.index) ?? 0);
  for (const [index, bytes] of byProcess) devices[String(index)] ??= toMiB(bytes);
  return { at, devices, users: topUsers(users) };
}

/** The sample of one stray scan: its GPU view, each process's user from the scan's own snapshot. */
export function sampleScan(scan: Pick<StrayScan, 'gpu' | 'snapshot' | 'userOf'>): SampleInput {
  return sampleGpuMemory(scan.gpu, (pid) => {
    const p = scan.snapshot.get(pid);
    return p ? scan.userOf(p.uid) : undefined;
  });
}

function topUsers(users: Map<string, number>): Record<string, number> {
  const sorted = [...users].sort((a, b) => b[1] - a[1]);
  const out: Record<string, number> = {};
  for (const [user, bytes] of sorted.slice(0, MAX_USERS)) out[user] = toMiB(bytes);
  const rest = sorted.slice(MAX_USERS).reduce((sum, [, b]) => sum + b, 0);
  if (rest) out.other = (out.other ?? 0) + toMiB(rest);
  return out;
}

function toMiB(bytes: number): number {
  return Math.round((bytes / MIB) * 10) / 10;
}
