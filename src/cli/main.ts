import { Command, CommanderError } from 'commander';
import { refuseNonUtf8Args } from '../config/argv-bytes.ts';
import { UsageError } from '../config/errors.ts';
import { guardStdStreams } from '../jobs/std-streams.ts';
import { paint, setQuiet } from './output.ts';
import { packageVersion } from './version.ts';

/** Exit statuses follow timeout(1): 2 bad usage, 125 corral itself failed. */
export const EXIT_USAGE = 2;
export const EXIT_INTERNAL = 125;

type Loader = () => Promise<{ register: (program: Command) => void }>;

// Each command lives in its own module, loaded only when that command runs, so `corral ps` does not
// pay for the supervisor and the supervisor does not pay for the report renderer.
const COMMANDS: Record<string, Loader> = {
  run: () => import('./run.ts'),
  pool: () => import('./pool.ts'),
  ps: () => import('./ps.ts'),
  show: () => import('./show.ts'),
  history: () => import('./history.ts'),
  logs: () => import('./logs.ts'),
  strays: () => import('./strays.ts'),
  report: () => import('./report.ts'),
  reap: () => import('./reap.ts'),
  stop: () => import('./stop.ts'),
  gpus: () => import('./gpus.ts'),
  guard: () => import('./guard.ts'),
  ui: () => import('./ui.ts'),
  slurm: () => import('./slurm.ts'),
  __sentinel: () => import('./sentinel.ts'),
};

export function buildProgram(): Command {
  const program = new Command('corral')
    .description('Process supervisor and process janitor for GPU experiment workloads on Linux.\nRuns jobs so that nothing they start survives them; finds and reaps what other tools left behind.')
    .version(packageVersion())
    .enablePositionalOptions()
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    // commander's own errors (unknown option, missing argument) carry corral's prefix like every other
    .configureOutput({ outputError: (s, write) => write(paint(prefixError(s), 'red', process.stderr)) });
  program.addHelpText('after', `
Examples:
  corral run -- python3 train.py                      run one job; nothing it starts outlives it
  corral run --timeout 2h --log -- python3 train.py   stop after 2h, keep a log (corral logs last)
  corral run --restart always --restart-delay 5s --max-runtime 2h -- python3 train.py
  corral ps                                           live runs and their process trees
  corral history                                      past runs with their stop reasons
  corral stop last                                    stop a run (its supervisor tears it down)

Exit status: the job's own; 128+N when it died of signal N; 124 on timeout; 125 when corral failed;
126/127 when the command cannot run / is not found; 2 for bad usage (nothing started).
Ledger and logs: $CORRAL_HOME, else $XDG_STATE_HOME/corral, else ~/.local/state/corral.`);
  return program;
}

/** `error: unknown option '--x'` from commander becomes `corral: error: unknown option '--x'`. */
export function prefixError(text: string): string {
  return text.startsWith('corral:') ? text : `corral: ${text}`;
}

/**
 * -q on every command: a command without its own -q (run and pool have theirs, with their own meaning)
 * gets one that silences corral's informational lines on stderr; errors and warnings still show.
 */
function addQuiet(program: Command): void {
  const added = new Set<Command>();
  for (const cmd of program.commands) {
    if (cmd.options.some((o) => o.short === '-q' || o.long === '--quiet')) continue;
    cmd.option('-q, --quiet', 'no corral messages on stderr, only the output (errors still show)');
    added.add(cmd);
  }
  program.hook('preAction', (_program, action) => {
    if (added.has(action) && action.opts().quiet) setQuiet(true);
  });
}

/** The only error boundary: every command's failure ends here, and only here does corral exit. */
export async function main(argv: string[]): Promise<void> {
  // A closed stdout/stderr (`| head -1`, a closed terminal) ends corral's output, never corral itself:
  // the job is still supervised, and its exit status and ledger record stay true.
  guardStdStreams();
  const program = buildProgram();
  const name = argv.find((a) => !a.startsWith('-'));
  const wanted = name && COMMANDS[name] ? [name] : Object.keys(COMMANDS);
  try {
    // before any command runs: an argument Node has already changed must not reach a job (or a path) changed
    refuseNonUtf8Args(argv);
    for (const n of wanted) (await COMMANDS[n]!()).register(program);
    addQuiet(program);
    await program.parseAsync(argv, { from: 'user' });
    process.exitCode ??= 0;
  } catch (e) {
    process.exitCode = reportError(e);
  }
}

function reportError(e: unknown): number {
  if (e instanceof CommanderError) {
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') return 0;
    return EXIT_USAGE; // commander has already printed the message
  }
  if (e instanceof UsageError) {
    process.stderr.write(`${paint('corral: error:', 'red', process.stderr)} ${e.message}\n`);
    if (e.hint) process.stderr.write(`  ${e.hint}\n`);
    return EXIT_USAGE;
  }
  const err = e as Error;
  process.stderr.write(`${paint('corral: internal error:', 'red', process.stderr)} ${err?.stack ?? String(e)}\n`);
  return EXIT_INTERNAL;
}
