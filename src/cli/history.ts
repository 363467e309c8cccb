import { Option, type Command } from 'commander';
import { formatDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { openLedgerToRead, type Db } from '../ledger/db.ts';
import { listRuns, RUN_STATUSES, type RunRow, type RunStatus } from '../ledger/runs.ts';
import { runState, unrecordedReason, type RunState } from '../ledger/run-state.ts';
import { parseCount } from '../config/pool-values.ts';
import { ageMs } from '../proc/clock.ts';
import { takeSnapshot, type Snapshot } from '../proc/snapshot.ts';
import { paint, printJson, table, visible, type Color } from './output.ts';
import { membersOfRun } from './run-members.ts';
import { formatLocalTime, shellJoin } from '../ui/shell-quote.ts';
import { displayWidth, fitLine } from '../ui/width.ts';

/**
 * The window's width: the terminal's, else $COLUMNS (as ps reads it); to a pipe without it, no limit.
 * The COMMAND cell takes what the other columns leave (at least 20), and what is cut ends in …
 * (--json has the whole argv).
 */
function commandBudget(rows: string[][]): number {
  const cols = process.stdout.isTTY ? process.stdout.columns : Number(process.env.COLUMNS);
  if (!cols || !Number.isFinite(cols)) return Infinity;
  const before = rows[0]!.slice(0, -1).reduce((sum, _, i) => sum + Math.max(...rows.map((r) => displayWidth(r[i]!))) + 2, 0);
  return Math.max(20, cols - 1 - before);
}

const STATUS_COLOR: Record<RunStatus, Color> = { running: 'blue', succeeded: 'green', failed: 'red', interrupted: 'yellow', stopped: 'cyan', lost: 'magenta' };

interface Shown {
  row: RunRow;
  state: RunState;
  /** of a run lost but still recorded running: its processes still alive */
  strays: number | null;
}

export function register(program: Command): void {
  program
    .command('history')
    .description('past and present runs with their status, stop reason and exit status')
    .option('--json', 'machine-readable output')
    .option('-n, --limit <n>', 'how many runs, newest first', '20')
    .addOption(new Option('--status <status>', 'only runs with this status').choices([...RUN_STATUSES]))
    .addHelpText('after', `
Status is the truth now, not only the ledger's row: a run recorded running whose supervisor and sentinel
are both gone shows as lost, with its strays (its processes still alive); corral stop RUN ends it.

Examples:
  corral history
  corral history --status lost      runs whose supervisor died
  corral history --json -n 100`)
    .action((flags: { json?: boolean; limit: string; status?: RunStatus }) => {
      const limit = parseLimit(flags.limit);
      const runs = selectRuns(openLedgerToRead(), limit, flags.status);
      if (flags.json) return printJson(runs.map(toJson));
      if (!runs.length) return void process.stdout.write(flags.status ? `no ${flags.status} runs\n` : 'no runs yet: start one with corral run -- CMD\n');
      const rows = runs.map(({ row: r, state, strays }) => [
        r.id, visible(r.name ?? ''), r.kind, formatLocalTime(r.started_at),
        r.ended_at ? formatDuration(r.ended_at - r.started_at) : state.lostUnrecorded ? '?' : formatDuration(r.start_ticks !== null ? ageMs(r.start_ticks) : Date.now() - r.started_at) + '…',
        paint(state.status + (strays !== null ? ` (${strays} stray${strays === 1 ? '' : 's'})` : ''), STATUS_COLOR[state.status] ?? 'gray'),
        r.stop_reason ?? unrecordedReason(state) ?? '', r.exit_code === null ? '' : String(r.exit_code), visible(commandOf(r)),
      ]);
      const header = ['RUN', 'NAME', 'KIND', `STARTED (${localZone()})`, 'TOOK', 'STATUS', 'REASON', 'EXIT', 'COMMAND'];
      const budget = commandBudget([header, ...rows]);
      for (const r of rows) r[8] = fitLine(r[8]!, budget);
      process.stdout.write(table(rows, header));
    });
}

/** The newest `limit` runs (of one status), each judged now: a row recorded running may be lost. */
function selectRuns(db: Db, limit: number, status?: RunStatus): Shown[] {
  // 'running' and 'lost' are judged now: a row recorded running may be lost
  const query = status === 'running' || status === 'lost' ? ['running', 'lost'] as RunStatus[] : status;
  let snap: Snapshot | undefined;
  return listRuns(db, { status: query, limit: status ? 100_000 : limit })
    .map((row) => {
      const state = runState(row);
      const strays = state.lostUnrecorded ? membersOfRun(db, row, (snap ??= takeSnapshot({ cgroup: false }))).size : null;
      return { row, state, strays };
    })
    .filter((r) => !status || r.state.status === status)
    .slice(0, limit);
}

/** What `corral history --json` prints (the dashboard's /api/runs serves the same as its history). */
export function historyJson(db: Db, limit: number, status?: RunStatus) {
  return selectRuns(db, limit, status).map(toJson);
}

function commandOf(r: RunRow): string {
  try {
    // quoted as a shell needs it: the line can be pasted back (a run's argv is in the ledger exactly)
    return shellJoin(JSON.parse(r.argv) as string[]);
  } catch {
    return r.argv;
  }
}

/** The local zone's short name (UTC, CET, GMT+9) for the STARTED header. */
function localZone(): string {
  const part = new Intl.DateTimeFormat('en-US', { timeZoneName: 'short' }).formatToParts(new Date()).find((x) => x.type === 'timeZoneName');
  return part?.value ?? 'local';
}

function toJson({ row: r, state, strays }: Shown) {
  return {
    id: r.id, name: r.name, kind: r.kind, status: state.status, recordedStatus: r.status, strays,
    stopReason: r.stop_reason ?? unrecordedReason(state), exitCode: r.exit_code,
    startedAt: new Date(r.started_at).toISOString(), endedAt: r.ended_at ? new Date(r.ended_at).toISOString() : null,
    argv: JSON.parse(r.argv), cwd: r.cwd, user: r.user, host: r.host, containment: r.containment,
  };
}

/** -n/--limit: a whole number from 1 to a million (a larger one would only make SQLite and V8 suffer). */
function parseLimit(text: string): number {
  try {
    return parseCount(text, 1, 1_000_000);
  } catch (e) {
    if (e instanceof UsageError) throw new UsageError(`--limit must be a whole number from 1 to 1000000, got '${text}'`);
    throw e;
  }
}
