import { closeSync, fstatSync, mkdtempSync, openSync, readFileSync, rmdirSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Identity } from '../proc/identity.ts';
import type { JobScope } from './scope.ts';

/*
 * What a sentinel needs to tear a run down without the home directory: the supervisor appends one JSON
 * record a line to an anonymous file (created, then unlinked at once) that it shares with its sentinel as
 * an inherited file descriptor. An `rm -rf` of the home, or of /tmp, cannot take it away: the file lives
 * as long as one of the two holds it. The shell still does nothing but wait in read(2) on the pipe (not
 * one wake-up per record, nothing to parse), and the teardown it execs reads the whole file back through
 * /proc/self/fd. The supervisor writes each record with one write(2) before it acts on what the record
 * names, so a SIGKILL at any moment leaves at worst a torn last line, which the reader skips.
 */

export type ScopeRecord =
  | {
      k: 'run'; run: string; boot: string; since: number; uid: number | null; graceMs: number; signal: NodeJS.Signals;
      cgroup: string | null; supervisor: Identity | null; ledger: { path: string; dev: number; ino: number } | null;
    }
  | { k: 'job'; job: string; cgroup: string | null; leader: [number, number] | null }
  | { k: 'seen'; job: string | null; ids: [number, number][] }
  | { k: 'gone'; ids: [number, number][] };

export type RunRecord = Extract<ScopeRecord, { k: 'run' }>;

/** The supervisor's end: an unlinked file in a private directory, opened close-on-exec (libuv's default). */
export class ScopeFile {
  readonly fd: number;
  bytes = 0;

  constructor() {
    const dir = mkdtempSync(join(tmpdir(), 'corral-sentinel-'));
    const path = join(dir, 'scope');
    this.fd = openSync(path, 'a+', 0o600);
    unlinkSync(path);
    rmdirSync(dir);
  }

  write(records: ScopeRecord[]): void {
    if (!records.length) return;
    const text = records.map((r) => JSON.stringify(r)).join('\n') + '\n';
    this.bytes += writeSync(this.fd, text);
  }

  close(): void {
    try {
      closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** What the records add up to: the run, and per job its cgroup, current leader and registry. */
export interface ScopeState {
  run: RunRecord | null;
  jobs: Map<string, { cgroup: string | null; leader: Identity | null }>;
  /** identity key -> identity and job (null: the whole run only) */
  seen: Map<string, Identity & { job: string | null }>;
}

const MAX_BYTES = 64 * 1024 * 1024;

/** The sentinel's end: reads the file it inherited as `fd` from the start, whatever the shared offset. */
export function readScopeFd(fd: number): ScopeState {
  const state: ScopeState = { run: null, jobs: new Map(), seen: new Map() };
  if (fstatSync(fd).size > MAX_BYTES) throw new Error(`the sentinel's scope file is over ${MAX_BYTES} bytes`);
  const text = readFileSync(`/proc/self/fd/${fd}`, 'utf8');
  for (const line of text.split('\n')) {
    if (!line) continue;
    let r: ScopeRecord;
    try {
      r = JSON.parse(line) as ScopeRecord;
    } catch {
      continue; // a torn last line: the supervisor died inside a write
    }
    applyRecord(state, r);
  }
  return state;
}

export function applyRecord(state: ScopeState, r: ScopeRecord): void {
  if (r.k === 'run') state.run = r;
  else if (r.k === 'job') state.jobs.set(r.job, { cgroup: r.cgroup, leader: r.leader ? { pid: r.leader[0], starttime: r.leader[1] } : null });
  else if (r.k === 'seen') for (const [pid, starttime] of r.ids) state.seen.set(`${pid}:${starttime}`, { pid, starttime, job: r.job });
  else if (r.k === 'gone') for (const [pid, starttime] of r.ids) state.seen.delete(`${pid}:${starttime}`);
}

/** Job scopes from the sentinel's own copy, shaped as scopesFromLedger shapes them: jobs, then the whole run. */
export function scopesFromState(state: ScopeState): JobScope[] {
  const run = state.run;
  if (!run) return [];
  const seen = [...state.seen.values()];
  const ids = (list: typeof seen) => list.map(({ pid, starttime }) => ({ pid, starttime }));
  const scopes: JobScope[] = [...state.jobs].map(([jobId, j]) => ({
    runId: run.run, jobId, cgroup: j.cgroup, leader: j.leader, sinceTicks: run.since, uid: run.uid, registry: ids(seen.filter((s) => s.job === jobId)),
  }));
  scopes.push({ runId: run.run, jobId: run.run, wholeRun: true, cgroup: run.cgroup, sinceTicks: run.since, uid: run.uid, registry: ids(seen) });
  return scopes;
}

/**
 * The union of two sets of scopes for one run (the sentinel's copy and the ledger's): per job, either
 * cgroup, either leader (the first set's when both name one), and both registries.
 */
export function unionScopes(a: JobScope[], b: JobScope[]): JobScope[] {
  const out = new Map<string, JobScope>();
  for (const s of [...a, ...b]) {
    const have = out.get(s.jobId);
    if (!have) {
      out.set(s.jobId, { ...s, registry: [...(s.registry ?? [])] });
      continue;
    }
    have.cgroup ??= s.cgroup;
    have.leader ??= s.leader;
    have.sinceTicks = Math.min(have.sinceTicks, s.sinceTicks);
    have.uid ??= s.uid;
    const keys = new Set(have.registry!.map((r) => `${r.pid}:${r.starttime}`));
    for (const r of s.registry ?? []) if (!keys.has(`${r.pid}:${r.starttime}`)) have.registry!.push(r);
  }
  return [...out.values()];
}
