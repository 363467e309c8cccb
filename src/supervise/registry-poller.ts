import type { Db } from '../ledger/db.ts';
import { markGone, registerProcesses, type Sighting } from '../ledger/registry.ts';
import { identityKey, type Identity } from '../proc/identity.ts';
import { readCmdline } from '../proc/snapshot.ts';
import { collectMembers, protectedPids, snapshotForScopes } from './members.ts';
import { reapAdopted } from './reaper.ts';
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

  /** exclude is read on every pass (the sentinel's pid changes when it is replaced); onPass feeds the sentinel */
  constructor(db: Db, runId: string, scopes: () => JobScope[], exclude: number[], onPass?: PassListener) {
    this.db = db;
    this.runId = runId;
    this.scopes = scopes;
    this.exclude = exclude;
    this.onPass = onPass;
  }

  start(pollMs: number): void {
    this.timer = setInterval(() => this.pass(), pollMs);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Live registry identities of one job (or of the whole run). */
  identities(jobId?: string): Identity[] {
    return [...this.known.values()].filter((k) => !jobId || k.jobId === jobId);
  }

  pass(): void {
    const scopes = this.scopes();
    if (!scopes.length) return;
    const snap = snapshotForScopes(scopes);
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
