import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { UsageError, suggest } from '../config/errors.ts';
import { parseGpuList } from '../config/gpu-list.ts';
import { usesDevice } from './gpu-view.ts';
import { STRAY_REASONS, type Stray, type StrayReason } from './types.ts';

/** The filters strays, report, gpus and reap --strays share. */
export interface StrayFilters {
  users?: string[];
  gpus?: number[];
  olderThanMs?: number;
  reasons?: StrayReason[];
  /** a run id, or a prefix of one (runs of another ledger are known only by their markers) */
  run?: string;
  pids?: number[];
}

export interface StrayFilterFlags {
  user?: string;
  gpu?: string;
  olderThan?: string;
  reason?: string;
  run?: string;
}

export function addStrayFilterOptions(cmd: Command, runHelp = 'only strays attributed to this run (id, prefix, name or last)'): Command {
  return cmd
    .option('--user <users>', 'only processes of these users (names or uids, comma-separated)')
    .option('--gpu <list>', 'only processes on these GPUs (0,1 or 0-3)')
    .option('--older-than <dur>', 'only processes running for at least this long (10m, 2h, 3d)')
    .option('--reason <reasons>', `only these reasons, comma-separated, or all: ${STRAY_REASONS.join(', ')}`)
    .option('--run <run>', runHelp);
}

export function parseReasons(text: string): StrayReason[] {
  const out: StrayReason[] = [];
  for (const part of text.split(',').map((s) => s.trim()).filter(Boolean)) {
    if (part === 'all') return [...STRAY_REASONS];
    if (!(STRAY_REASONS as readonly string[]).includes(part)) {
      const near = suggest(part, STRAY_REASONS);
      throw new UsageError(`unknown stray reason '${part}'`, near ? `did you mean ${near}?` : `reasons: ${STRAY_REASONS.join(', ')}, or all`);
    }
    if (!out.includes(part as StrayReason)) out.push(part as StrayReason);
  }
  if (!out.length) throw new UsageError('--reason is empty', `give one or more of: ${STRAY_REASONS.join(', ')}, or all`);
  return out;
}

/** Validates the filter flags; `resolveRun` turns a run reference into a full id where the ledger knows it. */
export function parseStrayFilters(f: StrayFilterFlags, resolveRun: (ref: string) => string | undefined = () => undefined): StrayFilters {
  const out: StrayFilters = {};
  if (f.user !== undefined) {
    out.users = f.user.split(',').map((s) => s.trim()).filter(Boolean);
    if (!out.users.length) throw new UsageError('--user is empty', 'give a user name or uid: --user alice');
  }
  if (f.gpu !== undefined) out.gpus = parseGpuList(f.gpu);
  if (f.olderThan !== undefined) out.olderThanMs = parseDuration(f.olderThan, '--older-than');
  if (f.reason !== undefined) out.reasons = parseReasons(f.reason);
  if (f.run !== undefined) {
    if (!f.run.trim()) throw new UsageError('--run is empty', 'give a run id, a unique prefix, a name or last');
    out.run = resolveRun(f.run) ?? f.run;
  }
  return out;
}

export function parsePids(args: string[]): number[] {
  return args.map((a) => {
    if (!/^\d+$/.test(a) || Number(a) < 1) throw new UsageError(`'${a}' is not a process id`, 'pids are positive whole numbers: corral reap 1234 5678');
    return Number(a);
  });
}

/** The strays that pass every filter given. */
export function applyStrayFilters(strays: Stray[], f: StrayFilters): Stray[] {
  return strays.filter((s) => {
    if (f.pids && !f.pids.includes(s.pid)) return false;
    if (f.users && !f.users.some((u) => u === s.user || u === String(s.uid))) return false;
    if (f.gpus && !s.gpu.some((u) => f.gpus!.some((g) => usesDevice(u, g)))) return false;
    if (f.olderThanMs !== undefined && s.runtimeMs < f.olderThanMs) return false;
    if (f.reasons && !s.reasons.some((r) => f.reasons!.includes(r.reason))) return false;
    if (f.run && !(s.attribution.runId && (s.attribution.runId === f.run || s.attribution.runId.startsWith(f.run)))) return false;
    return true;
  });
}
