import type { Command } from 'commander';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../config/errors.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { jobsOfRun, type JobRow } from '../ledger/jobs.ts';
import { resolveRef } from '../ledger/refs.ts';
import { getRun } from '../ledger/runs.ts';
import { pumpLog, type LogCursor } from './log-stream.ts';

export function register(program: Command): void {
  program
    .command('logs')
    .description('print the logs of a run or job started with --log (or any pool task)')
    .argument('<run-or-job>', "last, a run id or unique prefix, a run's name, or RUN.JOB (last.main, last.sample.3)")
    .option('-f, --follow', 'keep printing as the logs grow, until the run ends')
    .addHelpText('after', '\nExamples:\n  corral logs last\n  corral logs 20261123-111800-a3f9 --follow\n  corral logs 20261123-111800-a3f9.main\n  corral logs last.sample.3')
    .action(async (ref: string, flags: { follow?: boolean }) => {
      const db = openLedgerToRead();
      const { run, job } = resolveRef(db, ref);
      const jobs = (job ? [job] : jobsOfRun(db, run.id)).filter((j) => j.log_path);
      if (!jobs.length) throw new UsageError(`run ${run.id} kept no logs`, 'start runs with --log to keep their output: corral run --log -- CMD');
      const cursors = new Map<string, LogCursor>();
      const many = jobs.length > 1;
      // One job's new bytes after another; false once stdout was closed (`corral logs X | head`).
      const pumpAll = async (list: JobRow[]) => {
        for (const j of list) {
          const path = j.log_path!;
          if (!cursors.has(path)) cursors.set(path, { ino: 0, offset: 0, lineStart: true });
          if (!(await pumpLog(path, cursors.get(path)!, many ? `[${j.name}] ` : null))) return false;
        }
        return true;
      };
      const logged = () => jobsOfRun(db, run.id).filter((x) => x.log_path);
      if (!(await pumpAll(jobs))) return;
      while (flags.follow && getRun(db, run.id)?.status === 'running') {
        await sleep(250);
        if (!(await pumpAll(logged()))) return;
      }
      if (flags.follow) await pumpAll(logged());
    });
}
