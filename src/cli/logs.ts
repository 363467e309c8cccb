import type { Command } from 'commander';
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { UsageError } from '../config/errors.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { jobsOfRun, type JobRow } from '../ledger/jobs.ts';
import { resolveRef } from '../ledger/refs.ts';
import { getRun } from '../ledger/runs.ts';

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
      const offsets = new Map<string, number>();
      const many = jobs.length > 1;
      const pump = (j: JobRow) => {
        const path = j.log_path!;
        if (!existsSync(path)) return;
        const from = offsets.get(path) ?? 0;
        const size = statSync(path).size;
        if (size <= from) return;
        const buf = Buffer.alloc(size - from);
        const fd = openSync(path, 'r');
        readSync(fd, buf, 0, buf.length, from);
        closeSync(fd);
        offsets.set(path, size);
        const text = buf.toString('utf8');
        process.stdout.write(many ? text.replace(/^(?=.)/gm, `[${j.name}] `) : text);
      };
      for (const j of jobs) pump(j);
      while (flags.follow && getRun(db, run.id)?.status === 'running') {
        await sleep(250);
        for (const j of jobsOfRun(db, run.id).filter((x) => x.log_path)) pump(j);
      }
      if (flags.follow) for (const j of jobsOfRun(db, run.id).filter((x) => x.log_path)) pump(j);
    });
}
