import { signalIdentity } from '../proc/signal.ts';
import { identityKey, type Identity } from '../proc/identity.ts';
import { ScopeFile, type RunRecord, type ScopeRecord } from './sentinel-scope.ts';
import { startSentinel, type Sentinel } from './sentinel.ts';
import type { JobScope } from './scope.ts';

/** Past this size the scope file is rewritten as a snapshot, under a fresh sentinel. */
const COMPACT_BYTES = 4 * 1024 * 1024;
/** How long a clean shutdown waits for the sentinel to exit before it SIGKILLs it. */
const CLEAN_EXIT_MS = 2000;

export interface KeeperEvents {
  /** a new sentinel took over (the old one died, or the scope file was compacted) */
  replaced(old: Identity, now: Identity, why: string): void;
}

/**
 * Keeps one live sentinel per run for as long as the supervisor lives: feeds it the run's scope as it
 * changes, notices when it dies (a job may kill it: Node's 'exit' for the child, which libuv collects
 * through its SIGCHLD handler) and starts another with the whole scope, and on a clean shutdown tells it
 * so and collects its exit, so that no sentinel is left as a zombie for init after corral has gone.
 */
export class SentinelKeeper {
  /**
   * the live sentinel's pid, and those of retired ones until they exit, shared by reference with every
   * teardown's exclude list: a sentinel is the supervisor's unmarked child, which a whole-run scope
   * would otherwise take as an adopted orphan
   */
  readonly pids: number[] = [];
  private sentinel!: Sentinel;
  private file!: ScopeFile;
  private run: RunRecord;
  private jobs = new Map<string, { cgroup: string | null; leader: Identity | null }>();
  /** the ids of `jobs` that have a leader: what a job start looks through, not every job the run had */
  private leading = new Set<string>();
  private seen = new Map<string, Identity & { job: string | null }>();
  private closing = false;
  /** sentinels replaced while still alive: their exits are collected too before corral exits */
  private retired: Sentinel[] = [];
  private logDir: string;
  private events: KeeperEvents;

  private compactBytes: number;

  constructor(run: RunRecord, logDir: string, events: KeeperEvents, opts: { compactBytes?: number } = {}) {
    this.compactBytes = opts.compactBytes ?? COMPACT_BYTES;
    this.run = run;
    this.logDir = logDir;
    this.events = events;
    this.launch();
  }

  get identity(): Identity {
    return this.sentinel.identity;
  }

  /** Tells the sentinel what the running jobs look like now: their cgroups and current leaders. */
  updateJobs(scopes: JobScope[]): void {
    const records: ScopeRecord[] = [];
    const active = new Set<string>();
    for (const s of scopes) {
      if (s.wholeRun) continue;
      active.add(s.jobId);
      const leader = s.leader ?? null;
      const had = this.jobs.get(s.jobId);
      if (had && had.cgroup === (s.cgroup ?? null) && sameIdentity(had.leader, leader)) continue;
      this.jobs.set(s.jobId, { cgroup: s.cgroup ?? null, leader });
      if (leader) this.leading.add(s.jobId);
      else this.leading.delete(s.jobId);
      records.push(jobRecord(s.jobId, this.jobs.get(s.jobId)!));
    }
    // A job with no attempt running has no leader: its pid may be reused by anyone from now on. Only the
    // jobs that still have one are looked at: a pool of 100,000 tasks would otherwise go through all the
    // tasks it ever ran at each task's start.
    for (const id of this.leading) {
      if (active.has(id)) continue;
      const j = this.jobs.get(id)!;
      j.leader = null;
      this.leading.delete(id);
      records.push(jobRecord(id, j));
    }
    this.write(records);
  }

  /** Registry sightings, as the poller makes them. */
  updateRegistry(fresh: (Identity & { jobId: string | null })[], gone: Identity[]): void {
    const records: ScopeRecord[] = [];
    const byJob = new Map<string | null, [number, number][]>();
    for (const f of fresh) {
      const key = identityKey(f);
      if (this.seen.has(key)) continue;
      this.seen.set(key, { pid: f.pid, starttime: f.starttime, job: f.jobId });
      byJob.set(f.jobId, [...(byJob.get(f.jobId) ?? []), [f.pid, f.starttime]]);
    }
    for (const [job, ids] of byJob) records.push({ k: 'seen', job, ids });
    const left = gone.filter((g) => this.seen.delete(identityKey(g))).map((g): [number, number] => [g.pid, g.starttime]);
    if (left.length) records.push({ k: 'gone', ids: left });
    this.write(records);
  }

  /**
   * Clean shutdown: the mark, then the sentinel's exit collected (SIGKILL after a bound). `meanwhile` runs
   * between the two, while the sentinel reads the mark and exits; the bound starts after it.
   */
  async close(meanwhile?: () => void): Promise<void> {
    this.closing = true;
    const s = this.sentinel;
    s.markClean();
    meanwhile?.();
    if (!(await within(s.exited, CLEAN_EXIT_MS))) {
      signalIdentity(s.identity, 'SIGKILL');
      await within(s.exited, CLEAN_EXIT_MS);
    }
    for (const r of this.retired) await within(r.exited, CLEAN_EXIT_MS);
    this.file.close();
  }

  private write(records: ScopeRecord[]): void {
    if (this.closing || !records.length) return;
    try {
      this.file.write(records);
    } catch {
      // ENOSPC on the temp file system: a fresh sentinel gets a fresh file with the whole scope
      this.replace('its scope file could not be written');
      return;
    }
    if (this.file.bytes > this.compactBytes) this.replace('its scope file was compacted');
  }

  /** The whole scope as records: what a new sentinel is given first. */
  private snapshot(): ScopeRecord[] {
    const records: ScopeRecord[] = [this.run];
    for (const [id, j] of this.jobs) records.push(jobRecord(id, j));
    const byJob = new Map<string | null, [number, number][]>();
    for (const s of this.seen.values()) byJob.set(s.job, [...(byJob.get(s.job) ?? []), [s.pid, s.starttime]]);
    for (const [job, ids] of byJob) records.push({ k: 'seen', job, ids });
    return records;
  }

  private launch(): void {
    const file = new ScopeFile();
    file.write(this.snapshot()); // before the sentinel exists: it can never see a partial scope
    let s: Sentinel;
    try {
      s = startSentinel(this.run.run, this.logDir, file.fd);
      if (!s.identity.pid) throw new Error('the sentinel could not be started');
    } catch (e) {
      file.close();
      throw e;
    }
    this.file = file;
    this.sentinel = s;
    this.refreshPids();
    void s.exited.then(({ code, signal }) => {
      if (this.closing || this.sentinel !== s) return;
      this.replace(`sentinel ${s.identity.pid} ended (${signal ?? `exit ${code}`})`);
    });
  }

  private refreshPids(): void {
    this.pids.splice(0, this.pids.length, this.sentinel.identity.pid, ...this.retired.map((r) => r.identity.pid));
  }

  private replace(why: string): void {
    const old = this.sentinel;
    const oldFile = this.file;
    try {
      this.launch();
    } catch {
      setTimeout(() => !this.closing && this.sentinel === old && this.replace(why), 1000).unref();
      return;
    }
    // The old one, if it still lives, is retired only now: there is no moment without a sentinel.
    old.markClean();
    oldFile.close();
    this.retired.push(old);
    this.refreshPids();
    void old.exited.then(() => {
      this.retired.splice(this.retired.indexOf(old), 1);
      this.refreshPids();
    });
    this.events.replaced(old.identity, this.sentinel.identity, why);
  }
}

function jobRecord(job: string, j: { cgroup: string | null; leader: Identity | null }): ScopeRecord {
  return { k: 'job', job, cgroup: j.cgroup, leader: j.leader ? [j.leader.pid, j.leader.starttime] : null };
}

function sameIdentity(a: Identity | null, b: Identity | null): boolean {
  return a === b || (!!a && !!b && a.pid === b.pid && a.starttime === b.starttime);
}

async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => (timer = setTimeout(() => r(false), ms)));
  const ok = await Promise.race([p.then(() => true), timeout]);
  clearTimeout(timer);
  return ok;
}
