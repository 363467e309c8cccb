import type { GpuProcessKind } from '../gpu/types.ts';

/** Why a live process counts as a stray. One process can have several. */
export type StrayReason = 'run-ended' | 'orphan' | 'stopped' | 'zombie' | 'unkillable' | 'gpu-holder' | 'idle-gpu-holder' | 'escaped-tmux';

export const STRAY_REASONS: readonly StrayReason[] = ['run-ended', 'orphan', 'stopped', 'zombie', 'unkillable', 'gpu-holder', 'idle-gpu-holder', 'escaped-tmux'];

export type Severity = 'info' | 'warning' | 'critical';

export const SEVERITY_RANK: Record<Severity, number> = { info: 0, warning: 1, critical: 2 };

/**
 * One rule that matched. `data` holds the evidence as plain values, so that each language renders
 * its own sentence from it (see reason-text.ts) and --json carries the facts, not prose.
 */
export interface ReasonHit {
  reason: StrayReason;
  severity: Severity;
  data: Record<string, string | number | boolean | null>;
}

/** A run as the scanner saw it: the ledger row's facts plus whether its supervisor or sentinel is alive. */
export interface RunFacts {
  id: string;
  name: string | null;
  status: string;
  stopReason: string | null;
  startedAt: number;
  endedAt: number | null;
  uid: number | null;
  user: string | null;
  /** the working directory corral was started in (the timeline's evidence for a tmux window it left) */
  cwd?: string | null;
  supervisorAlive: boolean;
  sentinelAlive: boolean;
  /** still owning its processes: running, and its supervisor or its sentinel alive */
  live: boolean;
}

export type AttributionVia = 'marker' | 'registry' | 'cgroup' | 'supervisor' | 'sentinel' | 'ancestor';

/** Which corral run (and job) a process belongs to, and how that is known. */
export interface Attribution {
  runId?: string;
  jobId?: string;
  via?: AttributionVia;
  /** the run's ledger facts; absent when the run is not in this ledger (another CORRAL_HOME, another user) */
  run?: RunFacts;
  /** with no direct attribution: the runs that were active when the process started */
  activeAtStart: RunFacts[];
}

export interface GpuUse {
  /** device index, or -1 when unknown */
  device: number;
  deviceMinor?: number;
  /** null when no probe could tell (an fd on a device node) */
  usedBytes: number | null;
  kind: GpuProcessKind;
  devicePaths?: string[];
}

export interface ParentFacts {
  pid: number;
  uid: number;
  comm: string;
  command: string;
  state: string;
  user: string;
}

/** A process that matched at least one stray rule, with every fact the report needs. */
export interface Stray {
  pid: number;
  starttime: number;
  ppid: number;
  pgid: number;
  sid: number;
  uid: number;
  user: string;
  state: string;
  comm: string;
  argv: string[];
  command: string;
  exe?: string;
  cgroup?: string;
  /** ms since the epoch */
  startedAt: number;
  runtimeMs: number;
  cpuTicks: number;
  rssBytes: number;
  /** re-parented to init or to a subreaper that did not start it */
  orphaned: boolean;
  adoptedBy?: 'init' | 'subreaper';
  parent?: ParentFacts;
  sudo?: { user?: string; uid?: number };
  /** the process renamed itself: argv[0] does not name its executable */
  rewritten?: { argv0: string; exe: string };
  wchan?: string;
  gpu: GpuUse[];
  /** the sum of the known per-device figures; 0 when none is known */
  gpuBytes: number;
  reasons: ReasonHit[];
  severity: Severity;
  attribution: Attribution;
  /** the allow-list entry it matched (it is then never an orphan, and reap skips it unless named by pid) */
  allowListed?: string;
}
