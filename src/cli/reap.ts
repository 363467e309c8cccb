import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { parseSignal } from '../config/signals.ts';
import { addStrayFilterOptions, parsePids, type StrayFilterFlags } from '../strays/filters.ts';
import { prepareScan } from '../strays/query.ts';
import { openLedgerToRead } from '../ledger/db.ts';
import { resolveRunFlag } from '../ledger/refs.ts';
import { isAlive } from '../proc/identity.ts';
import type { ReapPlan } from '../reap/plan.ts';
import { printJson } from './output.ts';

interface ReapFlags extends StrayFilterFlags {
  job?: string;
  strays?: boolean;
  anyUser?: boolean;
  force?: boolean;
  dryRun?: boolean;
  yes?: boolean;
  json?: boolean;
  grace: string;
  signal: string;
  allowList?: string;
}

/** Exit status of a reap that failed at nothing but left alone something it selected, still alive. */
export const EXIT_LEFT_ALIVE = 3;

/** How many processes the plan selected but left alone (allow-listed, another user's) are alive now. */
function leftAlive(plan: ReapPlan): number {
  // corral itself is protected and ends now; its ancestors and everything else skipped count
  return plan.skipped.filter((s) => s.why !== 'not-found' && s.pid !== process.pid && isAlive({ pid: s.pid, starttime: s.starttime })).length;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

export function register(program: Command): void {
  const cmd = program
    .command('reap')
    .description('stop processes safely: each target and its whole subtree through the same teardown as corral run')
    .argument('[pids...]', 'processes to reap (with --strays: only those of them that are strays)')
    .option('--job <job>', "everything of one job (RUN.NAME, e.g. last.main)")
    .option('--strays', 'the strays a scan finds (narrow with the filters below)')
    .option('--any-user', "as root: also other users' processes")
    .option('--force', 'reap a run or job whose supervisor is still alive, supervisor included (corral stop ends it gracefully)')
    .option('--dry-run', 'show the plan; signal nothing')
    .option('-y, --yes', 'do it without asking (required when stdin is not a terminal)')
    .option('--grace <dur>', 'time between the stop signal and SIGKILL', '5s')
    .option('--signal <sig>', 'the stop signal (SIGCONT is always sent with it)', 'TERM')
    .option('--allow-list <file>', 'YAML/JSON allow-list of daemons to leave alone unless named by pid')
    .option('--json', 'machine-readable plan and result');
  addStrayFilterOptions(cmd, 'everything of this run (with --strays or a filter: only its strays)')
    .addHelpText('after', `
Examples:
  corral reap --strays --dry-run                 what a cleanup would do
  corral reap --run last --yes                   everything the last run left behind
  corral reap --strays --reason stopped,orphan   (asks on a terminal)
  corral reap --gpu 0 --yes                      strays holding GPU 0 (--gpu and --reason imply --strays)
  sudo corral reap --any-user --strays --reason all --yes
  corral reap 12345 12346 --yes                  named processes and their subtrees

Never signalled: pid 1, kernel threads, corral itself and its ancestors, other users' processes (unless
root with --any-user), allow-listed daemons (unless named by pid). As root, --strays without --reason
takes only strays of corral runs and GPU holders. A run whose supervisor is alive is refused (exit 2):
corral stop RUN ends it gracefully; --force reaps it anyway.

Exit status: 0 everything selected is gone; 1 something signalled survived (not permitted, unkillable,
a zombie whose parent does not reap it) or a named pid was refused; 3 nothing failed, but something
selected was left alone and is still alive (allow-listed, another user's without --any-user); 2 bad
usage, an unknown or ambiguous reference, a live run without --force, or no --yes without a terminal
(nothing signalled).`)
    .action(async (args: string[], flags: ReapFlags) => {
      const pids = parsePids(args);
      const graceMs = parseDuration(flags.grace, '--grace');
      const signal = parseSignal(flags.signal);
      flags.run = resolveRunFlag(openLedgerToRead(), flags.run);
      const query = prepareScan(flags);
      const f = query.filters;
      const strays = Boolean(flags.strays || f.users || f.gpus || f.olderThanMs !== undefined || f.reasons);
      if (!strays && !pids.length && !flags.run && !flags.job) {
        throw new UsageError('nothing selected', 'name pids, --run RUN, --job JOB or --strays (see corral reap --help)');
      }
      const [{ scanStrays }, { buildPlan }, { renderPlan, renderResult }, { ledgerViewOf }] = await Promise.all([
        import('../strays/scan.ts'), import('../reap/plan.ts'), import('../ui/reap-render.ts'), import('../strays/ledger-view.ts'),
      ]);
      const scan = await scanStrays({ ledger: ledgerViewOf(query.db), allowList: query.allowList });
      const plan = buildPlan({ pids, run: flags.run, job: flags.job, strays, filters: f, anyUser: Boolean(flags.anyUser), force: Boolean(flags.force) }, scan, query.db);
      const json = (result?: unknown) => printJson({ dryRun: Boolean(flags.dryRun), plan: { targets: plan.targets, zombies: plan.zombies, skipped: plan.skipped, notTaken: plan.notTaken }, result: result ?? null });
      const refusedNamed = plan.skipped.some((s) => s.selectedBy === 'pid');
      if (!flags.json) process.stdout.write(renderPlan(plan));
      if (flags.dryRun || !plan.targets.length) {
        if (flags.json) json();
        else if (!plan.targets.length) process.stdout.write('nothing to reap\n');
        process.exitCode = refusedNamed ? 1 : !flags.dryRun && leftAlive(plan) ? EXIT_LEFT_ALIVE : 0;
        return;
      }
      if (!flags.yes) {
        if (!process.stdin.isTTY) throw new UsageError('stdin is not a terminal, so there is no one to confirm: nothing was signalled', 'add --yes to reap, or --dry-run to only show the plan');
        if (!(await confirm(`reap ${plan.targets.length} process(es)? [y/N] `))) {
          process.stderr.write('nothing signalled\n');
          return;
        }
      }
      const { executePlan } = await import('../reap/execute.ts');
      const result = await executePlan(plan, query.db, { signal, graceMs });
      if (flags.json) json(result);
      else process.stdout.write(renderResult(result));
      // a zombie left for init to collect is settled as far as any signal goes; everything else left is not
      const unsettled = result.remaining.some((r) => r.why === 'eperm' || r.why === 'unkillable' || (r.why === 'zombie' && r.fix));
      const left = leftAlive(plan);
      if (left && !flags.json) process.stdout.write(`${left} selected process(es) left alone are still alive (see "left alone" above): exit status ${EXIT_LEFT_ALIVE}\n`);
      process.exitCode = unsettled || refusedNamed ? 1 : left ? EXIT_LEFT_ALIVE : 0;
    });
}
