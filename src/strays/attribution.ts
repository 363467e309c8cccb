import type { ProcInfo, Snapshot } from '../proc/snapshot.ts';
import { findTmuxEscape, type TmuxEscape } from './escaped-tmux.ts';
import { runFacts, type LedgerView } from './ledger-view.ts';
import type { Attribution, AttributionVia, RunFacts } from './types.ts';
import { RUN_ID_SOURCE } from '../ledger/ids.ts';

/** The run's own cgroup is `corral-<runid>`; a job's cgroup is the job id below it. */
const CGROUP_RUN = new RegExp(`/corral-(${RUN_ID_SOURCE})(?:/([^/]+))?`);

export interface DirectAttribution {
  runId: string;
  jobId?: string;
  via: AttributionVia;
}

export function runIdFromCgroup(cgroup: string | undefined): { runId: string; jobId?: string } | undefined {
  const m = cgroup ? CGROUP_RUN.exec(cgroup) : null;
  return m ? { runId: m[1]!, jobId: m[2] } : undefined;
}

/**
 * What ties a process itself to a run, strongest evidence first: being the run's supervisor or sentinel,
 * its environment markers (they survive setsid, double forks and re-parenting), the registry (survives
 * `env -i`), then the run's cgroup.
 */
export function directAttribution(p: ProcInfo, ledger: LedgerView): DirectAttribution | undefined {
  const role = ledger.roleOf(p);
  if (role) return { runId: role.runId, via: role.role };
  if (p.env?.runId) return { runId: p.env.runId, jobId: p.env.jobId, via: 'marker' };
  const reg = ledger.registryEntry(p);
  if (reg) return { runId: reg.run_id, jobId: reg.job_id ?? undefined, via: 'registry' };
  const cg = runIdFromCgroup(p.cgroup);
  if (cg) return { ...cg, via: 'cgroup' };
  return undefined;
}

/** Attributes every process of a snapshot in one pass: direct evidence, else the nearest attributed ancestor. */
export class Attributor {
  private direct = new Map<number, DirectAttribution | undefined>();
  private runs = new Map<string, RunFacts | undefined>();
  private snap: Snapshot;
  private ledger: LedgerView;

  constructor(snap: Snapshot, ledger: LedgerView) {
    this.snap = snap;
    this.ledger = ledger;
  }

  directOf(p: ProcInfo): DirectAttribution | undefined {
    if (!this.direct.has(p.pid)) this.direct.set(p.pid, directAttribution(p, this.ledger));
    return this.direct.get(p.pid);
  }

  runOf(runId: string): RunFacts | undefined {
    if (!this.runs.has(runId)) {
      const row = this.ledger.run(runId);
      this.runs.set(runId, row ? runFacts(row, this.snap) : undefined);
    }
    return this.runs.get(runId);
  }

  /** Direct or inherited from an ancestor (a child a run's process started with a cleared environment). */
  attribute(p: ProcInfo): Attribution {
    let found = this.directOf(p);
    if (!found) {
      const seen = new Set<number>([p.pid]);
      for (let cur = this.snap.get(p.ppid); cur && cur.pid > 1 && !seen.has(cur.pid); cur = this.snap.get(cur.ppid)) {
        seen.add(cur.pid);
        const d = this.directOf(cur);
        // a run's supervisor is not part of its jobs: what it starts is attributed by marker or registry
        if (d && d.via !== 'supervisor' && d.via !== 'sentinel') {
          found = { runId: d.runId, jobId: d.jobId, via: 'ancestor' };
          break;
        }
      }
    }
    if (!found) return { activeAtStart: [] };
    return { runId: found.runId, jobId: found.jobId, via: found.via, run: this.runOf(found.runId), activeAtStart: [] };
  }

  /** The runs that were active when an unattributed process started: the timeline's suspects. */
  activeAtStart(p: ProcInfo): RunFacts[] {
    return this.ledger.activeAt(p.starttime).map((r) => this.runOf(r.id)!).filter(Boolean);
  }

  /** An unattributed window of the user's tmux server that a run left behind (see escaped-tmux.ts). */
  tmuxEscape(p: ProcInfo): TmuxEscape | undefined {
    return findTmuxEscape(p, this.snap, (ticks) => this.ledger.activeAt(ticks).map((r) => this.runOf(r.id)!).filter(Boolean));
  }

  /**
   * Whether the process still has a live owner. Known runs answer from the ledger. A marker of a run
   * this ledger does not know (another CORRAL_HOME): every process of a live run descends from its
   * supervisor, so the owner is alive while the topmost process of the run still has a parent other than init.
   */
  ownerAlive(p: ProcInfo, att: Attribution): boolean {
    if (att.run) return att.run.live;
    if (!att.runId) return false;
    let top: ProcInfo = p;
    const seen = new Set<number>([p.pid]);
    for (let cur = this.snap.get(p.ppid); cur && cur.pid > 1 && !seen.has(cur.pid); cur = this.snap.get(cur.ppid)) {
      seen.add(cur.pid);
      if (this.directOf(cur)?.runId === att.runId) top = cur;
    }
    const parent = this.snap.get(top.ppid);
    return top.ppid > 1 && parent !== undefined && parent.state !== 'Z';
  }
}
