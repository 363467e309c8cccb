import type { Db } from '../ledger/db.ts';
import { markGone, registerProcesses, type Sighting } from '../ledger/registry.ts';
import { identityKey, pidHeld, type Identity } from '../proc/identity.ts';
import { readCmdline } from '../proc/snapshot.ts';
import type { Snapshot } from '../proc/snapshot.ts';
import { collectMembers, protectedPids, snapshotForScopes, snapshotForScopesInSlices } from './members.ts';
import { ownChildren, reapAdopted } from './reaper.ts';
import type { JobScope } from './scope.ts';

export type PassListener = (scopes: JobScope[], fresh: (Identity & { jobId: string | null })[], gone: Identity[]) => void;

/**
 * Writes every process seen in the run's jobs to the ledger, so that attribution (and the sentinel's
 * teardown) survives the death of every parent. Runs every pollMs while jobs run; each pass also reaps
 * orphans the supervisor adopted.
 */
export class RegistryPoller {
  readonly known = new Map<string, Identity & { jobId: string | null }>();
  private timer: NodeJS.Timeout | null = null;
  private db: Db;
  private runId: string;
  private scopes: () => JobScope[];
  private exclude: number[];
  private onPass?: PassListener;
  private inFlight = false;
  /** bumped by every pass and by stop(): a sliced pass whose number is stale records nothing */
  private generation = 0;

  /** exclude is read on every pass (the sentinel's pid changes when it is replaced); onPass feeds the sentinel */
  constructor(db: Db, runId: string, scopes: () => JobScope[], exclude: number[], onPass?: PassListener) {
    this.db = db;
    this.runId = runId;
    this.scopes = scopes;
    this.exclude = exclude;
    this.onPass = onPass;
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => void this.passInSlices(), pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.generation++;
  }

  /** Live registry identities of one job (or of the whole run). */
  identities(jobId?: string): Identity[] {
    return [...this.known.values()].filter((k) => !jobId || k.jobId === jobId);
  }

  /**
   * One pass at once (the final one before the run's sweep); a sliced pass still in flight is dropped.
   * Returns its snapshot, which the sweep that follows at once uses for its first round.
   */
  pass(): Snapshot | null {
    const scopes = this.scopes();
    if (!scopes.length) return null;
    this.generation++;
    const snap = snapshotForScopes(scopes);
    this.record(scopes, snap);
    return snap;
  }

  /**
   * The timer's pass: its scan runs in slices, so a SIGTERM arriving meanwhile is handled (and the
   * teardown's first signal sent) after one slice, not after a scan of every process on the host.
   */
  private async passInSlices(): Promise<void> {
    if (this.inFlight) return;
    const scopes = this.scopes();
    if (!scopes.length) return;
    this.inFlight = true;
    const generation = ++this.generation;
    try {
      const snap = await snapshotForScopesInSlices(scopes, () => generation !== this.generation);
      if (!snap || generation !== this.generation) return;
      // A child of corral's own (nvidia-smi) that the scan saw may have been reaped since, which took it
      // out of ownChildren: it would look adopted. One no longer there is dropped (it is gone either way).
      for (const p of snap.values()) if (p.ppid === process.pid && !ownChildren.has(p.pid) && !pidHeld(p)) snap.delete(p.pid);
      this.record(scopes, snap);
    } finally {
      this.inFlight = false;
    }
  }

  private record(scopes: JobScope[], snap: Snapshot): void {
    reapAdopted(snap);
    const members = collectMembers(scopes, snap, protectedPids(snap, this.exclude));
    const fresh: Sighting[] = [];
    for (const m of members.values()) {
      const key = identityKey(m);
      if (this.known.has(key)) continue;
      const p = snap.get(m.pid)!;
      const jobId = scopes.find((s) => s.jobId === m.jobId)?.wholeRun ? null : m.jobId;
      this.known.set(key, { pid: m.pid, starttime: m.starttime, jobId });
      fresh.push({ ...m, jobId, ppid: p.ppid, uid: p.uid, comm: p.comm, cmdline: readCmdline(m.pid) });
    }
    const gone: Identity[] = [];
    for (const [key, id] of this.known) {
      if (snap.get(id.pid)?.starttime !== id.starttime) {
        gone.push(id);
        this.known.delete(key);
      }
    }
    // The sentinel first: its copy must not depend on the ledger being writable (or its home existing).
    this.onPass?.(scopes, fresh, gone);
    try {
      registerProcesses(this.db, this.runId, fresh);
      markGone(this.db, gone);
    } catch {
      // A busy ledger must not stop supervision; the identities stay in memory and the next pass retries.
      for (const s of fresh) this.known.delete(identityKey(s));
    }
  }
}
