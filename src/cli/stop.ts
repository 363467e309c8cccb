import type { Command } from 'commander';
import { formatDuration, parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { openLedger } from '../ledger/db.ts';
import { resolveRef } from '../ledger/refs.ts';
import { takeSnapshot } from '../proc/snapshot.ts';
import { isQuiet, paint, printJson } from './output.ts';
import { membersOfRun } from './run-members.ts';

export function register(program: Command): void {
  program
    .command('stop')
    .description("stop a run: its live supervisor tears it down gracefully (recorded 'stopped'); a lost run is torn down here from the ledger")
    .argument('<run>', "last, a run id or unique prefix, or a run's name")
    .option('--grace <dur>', "at most this long for a graceful stop before everything is killed (default: the run's own --grace)")
    .option('--json', 'machine-readable result')
    .addHelpText('after', `
A live run: corral records the request in the ledger and sends SIGTERM to the supervisor (identity-checked);
the supervisor stops every job through its teardown and records the run as 'stopped' (stop reason stopped,
exit status 143). A run whose supervisor is gone (lost): its sentinel's teardown, done here (status lost,
stop reason stopped). corral stop waits, bounded, until the run has ended.

Examples:
  corral stop last
  corral stop 20261123-111800-a3f9 --grace 30s
  corral stop train --json

Exit status: 0 the run has ended and none of its processes is alive; 1 something survived (not permitted,
unkillable) or the supervisor did not end in time; 2 bad usage, an unknown or ambiguous reference, or a
job reference (corral stop stops whole runs).`)
    .action(async (ref: string, flags: { grace?: string; json?: boolean }) => {
      const graceMs = flags.grace !== undefined ? parseDuration(flags.grace, '--grace') : undefined;
      const db = openLedger();
      const { run, job } = resolveRef(db, ref);
      if (job) throw new UsageError(`'${ref}' names job ${job.id}: corral stop stops whole runs, not one job of a live run`, `stop the whole run: corral stop ${run.id}`);
      const say = (line: string) => void (flags.json || isQuiet() || process.stderr.write(`${paint('corral:', 'cyan', process.stderr)} ${line}\n`));
      const { stopRun } = await import('../supervise/stop-run.ts');
      const res = await stopRun(db, run, { graceMs, say });
      // nothing of the run may be left, whoever ended it: judge it now, from the ledger, against /proc
      const left = res.outcome === 'eperm' ? [] : [...membersOfRun(db, res.run, takeSnapshot({ cgroup: false })).values()];
      const ok = (res.outcome === 'stopped' || res.outcome === 'torn-down' || res.outcome === 'ended') && !left.length && !res.leftovers.length;
      if (flags.json) {
        printJson({ run: res.run.id, outcome: res.outcome, status: res.run.status, stopReason: res.run.stop_reason, exitCode: res.run.exit_code, members: res.members, leftovers: res.leftovers, alive: left.map((m) => m.pid), ms: Math.round(res.ms) });
      } else {
        process.stdout.write(describe(res.outcome, res.run, res.ms, res.members) + '\n');
        for (const l of res.leftovers) process.stdout.write(`  ${l.pid} ${l.user} ${l.state} ${l.command}: ${l.why}\n`);
        if (left.length) process.stdout.write(`${left.length} process(es) of the run still alive (${left.map((m) => m.pid).join(', ')}): corral reap --run ${res.run.id}\n`);
      }
      process.exitCode = ok ? 0 : 1;
    });
}

function describe(outcome: string, run: { id: string; status: string; stop_reason: string | null; exit_code: number | null; supervisor_pid: number | null; user: string | null }, ms: number, members: number): string {
  const end = `${run.status}${run.stop_reason ? `, ${run.stop_reason}` : ''}${run.exit_code !== null ? `, exit status ${run.exit_code}` : ''}`;
  switch (outcome) {
    case 'stopped': return `run ${run.id} stopped in ${formatDuration(ms)} (${end})`;
    case 'torn-down': return `run ${run.id} had lost its supervisor: torn down in ${formatDuration(ms)}${members ? `, ${members} process(es) stopped` : ''} (${end})`;
    case 'ended': return `run ${run.id} had already ended (${end}); nothing to stop`;
    case 'eperm': return `run ${run.id}: not permitted to signal its supervisor (pid ${run.supervisor_pid}, user ${run.user ?? '?'}): run corral stop as that user, or with sudo`;
    default: return `run ${run.id}: its supervisor (pid ${run.supervisor_pid}) did not end in time; see corral ps ${run.id}`;
  }
}
