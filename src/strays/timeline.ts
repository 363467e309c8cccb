import type { LedgerView } from './ledger-view.ts';
import type { RunFacts, Stray } from './types.ts';

/** One line of a stray's timeline: the process's own start among the ledger events of its run(s). */
export interface TimelineEntry {
  at: number;
  kind: 'process-start' | 'run-start' | 'run-end' | 'event';
  runId?: string;
  jobId?: string | null;
  /** the ledger event kind (attempt-start, attempt-end, supervisor-lost, reap, ...) */
  event?: string;
  data?: Record<string, unknown>;
  /** for run-start/run-end: the run's facts */
  run?: RunFacts;
}

function parse(data: string | null): Record<string, unknown> {
  if (!data) return {};
  try {
    const v = JSON.parse(data);
    return v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function runEntries(run: RunFacts, ledger: LedgerView, withEvents: boolean): TimelineEntry[] {
  const out: TimelineEntry[] = [{ at: run.startedAt, kind: 'run-start', runId: run.id, run }];
  if (withEvents) {
    for (const e of ledger.events(run.id)) {
      if (e.kind === 'run-start' || e.kind === 'run-end') continue;
      out.push({ at: e.at, kind: 'event', runId: run.id, jobId: e.job_id, event: e.kind, data: parse(e.data) });
    }
  } else {
    for (const e of ledger.events(run.id)) if (e.kind === 'supervisor-lost') out.push({ at: e.at, kind: 'event', runId: run.id, event: e.kind, data: parse(e.data) });
  }
  if (run.endedAt !== null) out.push({ at: run.endedAt, kind: 'run-end', runId: run.id, run });
  return out;
}

/**
 * The stray's start against the runs: its own run's whole event history when it is attributed, else the
 * start and end of every run that was active when it started. Long histories (a restart loop's thousands
 * of attempts) keep their first and last entries.
 */
export function strayTimeline(s: Stray, ledger: LedgerView, limit = 30): { entries: TimelineEntry[]; omitted: number } {
  const own = s.attribution.run;
  const runs = own ? [own] : s.attribution.activeAtStart;
  let entries: TimelineEntry[] = [{ at: s.startedAt, kind: 'process-start' }];
  for (const r of runs) entries.push(...runEntries(r, ledger, Boolean(own)));
  entries.sort((a, b) => a.at - b.at || (a.kind === 'process-start' ? 1 : 0) - (b.kind === 'process-start' ? 1 : 0));
  let omitted = 0;
  if (entries.length > limit) {
    const head = Math.floor(limit / 2);
    const tail = limit - head;
    const keep = new Set([...entries.slice(0, head), ...entries.slice(-tail), ...entries.filter((e) => e.kind !== 'event')]);
    omitted = entries.length - keep.size;
    entries = entries.filter((e) => keep.has(e));
  }
  return { entries, omitted };
}
