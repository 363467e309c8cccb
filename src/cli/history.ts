import { Option, type Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { openLedger } from '../ledger/db.ts';
import { listRuns, type RunRow, type RunStatus } from '../ledger/runs.ts';
import { paint, printJson, table, type Color } from './output.ts';

const STATUS_COLOR: Record<RunStatus, Color> = { running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'yellow', lost: 'magenta' };

export function register(program: Command): void {
  program
    .command('history')
    .description('past and present runs with their status, stop reason and exit status')
    .option('--json', 'machine-readable output')
    .option('-n, --limit <n>', 'how many runs, newest first', '20')
    .addOption(new Option('--status <status>', 'only runs with this status').choices(['running', 'succeeded', 'failed', 'interrupted', 'lost']))
    .addHelpText('after', '\nExamples:\n  corral history\n  corral history --status lost      runs whose supervisor died (the sentinel tore them down)\n  corral history --json -n 100')
    .action((flags: { json?: boolean; limit: string; status?: RunStatus }) => {
      if (!/^\d+$/.test(flags.limit)) throw new UsageError(`--limit must be a whole number, got '${flags.limit}'`);
      const runs = listRuns(openLedger(), { status: flags.status, limit: Number(flags.limit) });
      if (flags.json) return printJson(runs.map(toJson));
      if (!runs.length) return void process.stdout.write('no runs yet: start one with corral run -- CMD\n');
      const rows = runs.map((r) => [
        r.id, r.name ?? '', r.kind, new Date(r.started_at).toISOString().replace('T', ' ').slice(0, 19),
        r.ended_at ? formatDuration(r.ended_at - r.started_at) : formatDuration(Date.now() - r.started_at) + '…',
        paint(r.status, STATUS_COLOR[r.status] ?? 'gray'), r.stop_reason ?? '', r.exit_code === null ? '' : String(r.exit_code), commandOf(r).slice(0, 60),
      ]);
      process.stdout.write(table(rows, ['RUN', 'NAME', 'KIND', 'STARTED (UTC)', 'TOOK', 'STATUS', 'REASON', 'EXIT', 'COMMAND']));
    });
}

function commandOf(r: RunRow): string {
  try {
    return (JSON.parse(r.argv) as string[]).join(' ');
  } catch {
    return r.argv;
  }
}

function toJson(r: RunRow) {
  return {
    id: r.id, name: r.name, kind: r.kind, status: r.status, stopReason: r.stop_reason, exitCode: r.exit_code,
    startedAt: new Date(r.started_at).toISOString(), endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    argv: JSON.parse(r.argv), cwd: r.cwd, user: r.user, host: r.host, containment: r.containment,
  };
}
