import { statSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import { dirname, join } from 'node:path';
import type { Db } from '../ledger/db.ts';
import { openLedger } from '../ledger/db.ts';
import { addEvent } from '../ledger/events.ts';
import { newRunId } from '../ledger/ids.ts';
import { ledgerPath, logsDir } from '../ledger/location.ts';
import { describeLedgerFault, ledgerAccessError } from '../ledger/ledger-errors.ts';
import { patientDb, persistFinal, writeTogether, type LedgerFaults } from '../ledger/patient-db.ts';
import { getRun, insertRun, updateRun, type RunStatus } from '../ledger/runs.ts';
import { runState } from '../ledger/run-state.ts';
import { removeCgroup, setUpRunCgroup, sweepStaleRunCgroups, warmCgroupMigration, type Containment } from '../os/cgroup.ts';
import { setChildSubreaper } from '../os/ffi.ts';
import { readStat } from '../proc/stat.ts';
import { currentBootId, ticksNow } from '../proc/clock.ts';
import { RegistryPoller } from '../supervise/registry-poller.ts';
import type { JobScope } from '../supervise/scope.ts';
import { SentinelKeeper } from '../supervise/sentinel-keeper.ts';
import { teardown, type TeardownResult } from '../supervise/teardown.ts';
import type { JobContext, JobRunner } from './job-runner.ts';

/**
 * What every run shares, whatever its shape (one job, main + sidecars, a pool): the ledger row, the
 * run's cgroup, the supervisor as subreaper, the sentinel, the registry poller, and the final whole-run
 * teardown that catches whatever the jobs' own teardowns could not attribute.
 */
/**
 * The run's config as the ledger keeps it: an `env` map anywhere in it (the job's environment, a pool
 * stage's env) becomes the sorted list of its names. Values are never stored: the ledger is a file on
 * disk, and environments hold API keys and tokens.
 */
export function configForLedger(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(configForLedger);
  if (!value || typeof value !== 'object') return value;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) {
    if (k === 'env' && v && typeof v === 'object' && !Array.isArray(v)) out.envNames = Object.keys(v).sort();
    else out[k] = configForLedger(v);
  }
  return out;
}

export class RunSession {
  readonly id: string;
  /** writes that fail for good (a full disk, a lock past the patience) are skipped, never fatal */
  readonly db: Db;
  private raw: Db;
  private faults: LedgerFaults;
  private faultSaid = false;
  readonly containment: Containment;
  readonly sentinel: SentinelKeeper;
  readonly poller: RegistryPoller;
  readonly startTicks: number;
  readonly abort = new AbortController();
  readonly runners: JobRunner[] = [];
  readonly subreaper: boolean;
  private graceMs: number;
  private stopSignal: NodeJS.Signals;

  /** `jobCgroups`: the names of the jobs known from the start, whose cgroups are made with the run's */
  constructor(opts: { kind: string; name?: string; argv: string[]; config: unknown; graceMs: number; stopSignal: NodeJS.Signals; pollMs?: number; jobCgroups?: string[] }) {
    this.graceMs = opts.graceMs;
    this.stopSignal = opts.stopSignal;
    // A tick of margin: a job spawned this instant must not look older than its run.
    this.startTicks = ticksNow() - 2;
    this.id = newRunId();
    // The run's cgroup first, then the kernel's slow first migration on a worker thread (see
    // warmCgroupMigration), while the ledger, the subreaper and the sentinel are set up: the job's own entry
    // into its cgroup is then quick. (The mkdir comes first: it waits for the kernel's cgroup lock, which
    // that migration holds.)
    this.containment = setUpRunCgroup(this.id, process.env, opts.jobCgroups);
    if (this.containment.kind === 'cgroup') warmCgroupMigration(this.containment.runDir);
    // Nothing has started yet: a ledger that cannot take the run's row is a one-line error (exit 2).
    try {
      this.raw = openLedger();
    } catch (e) {
      if (this.containment.kind === 'cgroup') removeCgroup(this.containment.runDir);
      throw e;
    }
    try {
      insertRun(this.raw, {
        id: this.id, kind: opts.kind, name: opts.name ?? null, argv: JSON.stringify(opts.argv), cwd: process.cwd(),
        uid: process.getuid?.() ?? null, user: userInfo().username, host: hostname(), supervisor_pid: process.pid,
        supervisor_starttime: readStat(process.pid)?.starttime ?? null, config: JSON.stringify(configForLedger({ ...(opts.config as object), graceMs: opts.graceMs, stopSignal: opts.stopSignal })), started_at: Date.now(),
        boot_id: currentBootId(), start_ticks: this.startTicks,
      });
    } catch (e) {
      try {
        this.raw.close();
      } catch {
        /* already unusable */
      }
      if (this.containment.kind === 'cgroup') removeCgroup(this.containment.runDir);
      throw ledgerAccessError(e, ledgerPath(), 'write');
    }
    const patient = patientDb(this.raw, (e) => this.sayFault(e));
    this.db = patient.db;
    this.faults = patient.faults;
    try {
      setChildSubreaper();
      this.subreaper = true;
    } catch {
      this.subreaper = false;
    }
    // empty cgroups that crashed runs of this ledger left beside ours: rmdir only, and only for runs that are over
    if (this.containment.kind === 'cgroup') sweepStaleRunCgroups(dirname(this.containment.runDir), (id) => { const r = getRun(this.db, id); return !r || runState(r).status === 'running'; });
    this.sentinel = this.startSentinel(process.getuid?.() ?? null);
    updateRun(this.db, this.id, {
      sentinel_pid: this.sentinel.identity.pid, sentinel_starttime: this.sentinel.identity.starttime,
      containment: this.describeContainment(), cgroup: this.containment.kind === 'cgroup' ? this.containment.runDir : null,
    });
    addEvent(this.db, this.id, null, 'run-start', { containment: this.describeContainment() });
    this.poller = new RegistryPoller(this.db, this.id, () => this.activeScopes(), this.sentinel.pids, (scopes, fresh, gone) => {
      this.sentinel.updateJobs(scopes);
      this.sentinel.updateRegistry(fresh, gone);
    });
    this.poller.start(opts.pollMs ?? Number(process.env.CORRAL_POLL_MS ?? 250));
  }

  /**
   * The sentinel gets the run's whole scope from the start, in its own file (not the ledger's home, which
   * may be removed while the run is up), and each change as the registry poller sees it. One the job kills
   * is replaced at once, and the ledger names the new one.
   */
  private startSentinel(uid: number | null): SentinelKeeper {
    let ledger: { path: string; dev: number; ino: number } | null = null;
    try {
      const st = statSync(ledgerPath());
      ledger = { path: ledgerPath(), dev: st.dev, ino: st.ino };
    } catch {
      /* an in-memory or odd ledger: the sentinel opens the default path, if it exists */
    }
    const run = {
      k: 'run' as const, run: this.id, boot: currentBootId(), since: this.startTicks, uid, graceMs: this.graceMs, signal: this.stopSignal,
      cgroup: this.containment.kind === 'cgroup' ? this.containment.runDir : null, supervisor: { pid: process.pid, starttime: readStat(process.pid)?.starttime ?? -1 }, ledger,
    };
    return new SentinelKeeper(run, logsDir(), {
      replaced: (old, now, why) => {
        try {
          updateRun(this.db, this.id, { sentinel_pid: now.pid, sentinel_starttime: now.starttime });
          addEvent(this.db, this.id, null, 'sentinel-replaced', { old: old.pid, new: now.pid, why });
        } catch {
          /* the ledger is busy or closed: the new sentinel still runs, and has the whole scope */
        }
      },
    });
  }

  describeContainment(): string {
    const parts = [this.containment.kind === 'cgroup' ? `cgroup2 (${this.containment.runDir})` : `no cgroup: ${this.containment.reason}`];
    parts.push('session+process group', this.subreaper ? 'subreaper' : 'no subreaper (koffi unavailable)', 'markers', 'registry');
    return parts.join(', ');
  }

  context(unkillableMs = 5000): JobContext {
    return {
      db: this.db, runId: this.id, runCgroup: this.containment.kind === 'cgroup' ? this.containment.runDir : null,
      runStartTicks: this.startTicks, exclude: this.sentinel.pids, registry: (jobId) => this.poller.identities(jobId),
      unkillableMs, abort: this.abort.signal,
      // a new leader reaches the sentinel's copy at once, not at the next registry pass (250 ms)
      onAttemptStart: () => this.sentinel.updateJobs(this.activeScopes()),
    };
  }

  /** Job scopes for running jobs, then the whole-run scope that takes adopted orphans nobody else claims. */
  activeScopes(): JobScope[] {
    const scopes = this.runners.filter((r) => r.running).map((r) => r.scope());
    scopes.push(this.wholeRunScope());
    return scopes;
  }

  wholeRunScope(): JobScope {
    return {
      runId: this.id, jobId: this.id, wholeRun: true, sinceTicks: this.startTicks, adopter: this.subreaper ? process.pid : null,
      cgroup: this.containment.kind === 'cgroup' ? this.containment.runDir : null, registry: this.poller.identities(),
    };
  }

  /** Final sweep over everything the run ever had, then the clean-shutdown mark for the sentinel. */
  async finish(status: RunStatus, stopReason: string, exitCode: number, immediate = false): Promise<TeardownResult> {
    // the final pass's snapshot is the sweep's first: two full /proc scans in a row would see the same
    const snapshot = this.poller.pass();
    this.poller.stop();
    const result = await teardown([this.wholeRunScope()], {
      signal: this.stopSignal, graceMs: this.graceMs, immediate, exclude: this.sentinel.pids, abort: this.abort.signal, snapshot,
    });
    if (this.containment.kind === 'cgroup') removeCgroup(this.containment.runDir);
    // The result is kept and retried (a lock, a full disk) until it is written or the patience is spent;
    // either way corral returns the job's status, and says when the ledger could not take it.
    const endedAt = Date.now();
    const endTicks = ticksNow();
    const failed = await persistFinal(() =>
      writeTogether(this.raw, () => {
        updateRun(this.raw, this.id, { ended_at: endedAt, end_ticks: endTicks, status, stop_reason: stopReason, exit_code: exitCode });
        addEvent(this.raw, this.id, null, 'run-end', { status, stopReason, exitCode, swept: result.members.length, leftovers: result.leftovers, ...(result.refused.length ? { refused: result.refused } : {}) });
      }),
    );
    if (failed) {
      process.stderr.write(`corral: the ledger ${ledgerPath()} could not be updated (${describeLedgerFault(failed) ?? String(failed)}): run ${this.id} ended ${status}, exit status ${exitCode}, but the ledger still says it is running\n`);
    } else if (this.faults.count) {
      process.stderr.write(`corral: ${this.faults.count} ledger update(s) of run ${this.id} were lost; its final status (${status}, exit status ${exitCode}) is recorded\n`);
    }
    // Collected before corral exits: a sentinel that outlived corral would be a zombie until init took it.
    // The ledger's closing checkpoint (two fsyncs, 5-80 ms here) runs while the sentinel reads its
    // "clean" and exits, not after.
    await this.sentinel.close(() => {
      try {
        this.raw.close();
      } catch {
        /* a full disk may refuse the last checkpoint: the WAL keeps what was written */
      }
    });
    return result;
  }

  /** The first ledger write that could not be made, in one line (later ones are counted at the end). */
  private sayFault(e: unknown): void {
    if (this.faultSaid) return;
    this.faultSaid = true;
    process.stderr.write(`corral: cannot update the ledger ${ledgerPath()} (${describeLedgerFault(e) ?? String(e)}); the job goes on, and its exit status is still corral's\n`);
  }

  logPath(jobName: string): string {
    return join(logsDir(), this.id, `${jobName}.log`);
  }
}
