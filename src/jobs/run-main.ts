import type { StdioOptions } from 'node:child_process';
import { setFlagsFromString } from 'node:v8';
import { formatDuration } from '../config/duration.ts';
import { jobIdFor } from '../ledger/ids.ts';
import { exitCodeForSignal, handleStopSignals, sighupWasIgnored, stopWasRequested } from '../supervise/signals.ts';
import { JobRunner, type JobOutcome, type JobSpec } from './job-runner.ts';
import { RunSession } from './run-session.ts';
import type { Leftover } from '../supervise/leftovers.ts';
import { shareTerminalWith } from '../supervise/spawn-job.ts';
import { inTerminalForeground } from '../supervise/terminal.ts';

export interface RunOptions {
  name?: string;
  main: Omit<JobSpec, 'role' | 'name'>;
  sidecars: Omit<JobSpec, 'role'>[];
  graceMs: number;
  stopSignal: NodeJS.Signals;
  argv: string[];
  /** true: the run's log directory; a string: that file (sidecars get NAME.sidecarN.log beside it) */
  log?: boolean | string;
  /** reports progress lines (containment, restarts, leftovers) */
  say: (line: string) => void;
  /** errors the user must see even with -q */
  warn?: (line: string) => void;
  onStart?: (session: RunSession) => void;
  /** once the run's stop handlers are in place: from here on `corral stop` ends it cleanly (--detach) */
  onReady?: (runId: string) => void;
  /** no terminal to show the job's output on: keep it only in the log (--detach) */
  detached?: boolean;
}

export interface RunResult {
  runId: string;
  status: number;
  main: JobOutcome;
  leftovers: Leftover[];
  containment: string;
}

/**
 * `corral run`: one main job and its sidecars in one run. When the main job ends in any way, every
 * sidecar is stopped with the teardown routine and the whole run is swept; the status is the main job's.
 */
export async function runMain(opts: RunOptions): Promise<RunResult> {
  const session = new RunSession({
    kind: 'run', name: opts.name, argv: opts.argv, config: { main: opts.main, sidecars: opts.sidecars }, graceMs: opts.graceMs, stopSignal: opts.stopSignal,
    jobCgroups: ['main', ...opts.sidecars.map((s) => s.name)],
  });
  // From here on the young generation keeps the size start-up gave it (as the guard's does): each registry
  // pass holds a /proc snapshot while it allocates, and V8 doubled the new space whenever survivors added
  // up, for good (7 -> 13 MiB within a minute beside 2,100 processes, on towards 128). The survivors go to
  // the old generation instead, whose collections free them. Read at each would-be growth: no restart.
  // bin/bundle-loader.cjs has set it already for `corral run` (before the code is compiled, for the code
  // cache); setting it again to the same value changes nothing, and covers a run started any other way.
  setFlagsFromString('--semi-space-growth-factor=1');
  opts.onStart?.(session);
  const ctx = session.context();
  ctx.soleJob = opts.sidecars.length === 0;
  ctx.onEvent = (kind, d) => {
    if (kind === 'spawn-error') (opts.warn ?? opts.say)(`cannot start job ${d.job}: ${d.error}`);
    if (kind === 'log') (opts.warn ?? opts.say)(`job ${d.job}: ${d.line}`);
    if (kind === 'restart') opts.say(`job ${d.job}: attempt ${Number(d.attempt) - 1} ${d.why}; restarts in ${formatDuration(Number(d.delayMs))} (attempt ${d.attempt})`);
    if (kind === 'end' && Array.isArray(d.leftovers) && d.leftovers.length) opts.say(`job ${d.job}: ${d.leftovers.length} process(es) could not be stopped`);
    if (kind === 'end' && Array.isArray(d.refused) && d.refused.length) {
      const list = (d.refused as { pid: number; uid: number }[]).map((r) => `pid ${r.pid} (uid ${r.uid})`).join(', ');
      (opts.warn ?? opts.say)(`job ${d.job}: left alone ${d.refused.length} process(es) of another user that carry this job's marker but no other tie to it: ${list}; a marker can be copied, so it is not proof (see corral strays)`);
    }
  };
  const logFor = (name: string) => (typeof opts.log === 'string' ? (name === 'main' ? opts.log : opts.log.replace(/(\.log)?$/, `.${name}.log`)) : session.logPath(name));
  const withLog = <T extends { name: string }>(spec: T): T & { logPath?: string } => (opts.log ? { ...spec, logPath: logFor(spec.name), ...(opts.detached ? { echo: false } : {}) } : spec);
  const mainSpec: JobSpec = withLog({ ...opts.main, name: 'main', role: 'main' as const });
  const main = new JobRunner(ctx, jobIdFor(session.id, 'main'), mainSpec);
  // In the foreground of a terminal the main job shares it, as under a shell (sidecars keep their sessions).
  // Not when SIGHUP was ignored (trap '' HUP): in its own session the job is out of the hangup's reach.
  const onTerminal = !opts.detached && !sighupWasIgnored() && inTerminalForeground();
  if (onTerminal) shareTerminalWith(main.id);
  const sidecars = opts.sidecars.map((s) => new JobRunner(ctx, jobIdFor(session.id, s.name), withLog({ ...s, role: 'sidecar' as const, stdio: s.stdio ?? (['ignore', 'inherit', 'inherit'] as StdioOptions) })));
  session.runners.push(main, ...sidecars);
  opts.say(`run ${session.id}: containment ${session.describeContainment()}${onTerminal ? "; the job shares this terminal (Ctrl-C, Ctrl-Z and fg reach it as under a shell)" : ''}`);
  let stopRequested = false;
  const signals = handleStopSignals(
    (sig) => {
      stopRequested = stopWasRequested(session.db, session.id);
      if (onTerminal && sig === 'SIGINT') {
        // Ctrl-C: the terminal already sent SIGINT to the job (its foreground group). Another signal could
        // cut its `except KeyboardInterrupt` short, so corral sends none (SIGCONT changes nothing for a
        // running process): it waits the grace period, then kills whatever of the job is left.
        mainSpec.stopSignal = 'SIGCONT';
        opts.say(`received SIGINT, as the job did: waiting up to ${formatDuration(opts.graceMs)} for it to end, then killing what is left (again to kill at once)`);
      } else opts.say(`${stopRequested ? 'corral stop' : `received ${sig}`}: stopping (grace ${formatDuration(opts.graceMs)}; again to kill at once)`);
      for (const r of session.runners) r.stop('signal');
    },
    () => {
      opts.say('second signal: killing everything now');
      session.abort.abort();
    },
  );
  opts.onReady?.(session.id);
  let outcome: JobOutcome | undefined;
  let sideOutcomes: Promise<JobOutcome>[] = [];
  try {
    sideOutcomes = sidecars.map((s) => s.run());
    outcome = await main.run();
    for (const s of sidecars) s.stop('main-ended');
    const sides = await Promise.all(sideOutcomes);
    // A Ctrl-C reaches corral and the job that shares its terminal at once; the job's end can be seen
    // first. One pass through the event loop's poll phase delivers a signal that has already arrived.
    await new Promise((resolve) => setImmediate(resolve));
    const sig = signals.received();
    const status = sig ? exitCodeForSignal(sig) : outcome.status;
    const ok = !sig && outcome.end.reason === 'exited' && outcome.end.exitCode === 0;
    const stopped = sig !== null && stopRequested;
    const swept = await session.finish(stopped ? 'stopped' : sig ? 'interrupted' : ok ? 'succeeded' : 'failed', stopped ? 'stopped' : sig ? 'signal' : outcome.end.reason, status, session.abort.signal.aborted);
    const leftovers = [...outcome.leftovers, ...sides.flatMap((s) => s.leftovers), ...swept.leftovers];
    return { runId: session.id, status, main: outcome, leftovers, containment: session.describeContainment() };
  } catch (e) {
    // An internal failure never leaves processes behind: stop everything, sweep, then report.
    for (const r of session.runners) r.stop('signal');
    await Promise.allSettled(sideOutcomes);
    await session.finish('failed', 'internal-error', 125, true).catch(() => {});
    throw e;
  } finally {
    signals.dispose();
  }
}
