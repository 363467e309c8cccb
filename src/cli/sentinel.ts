import type { Command } from 'commander';

/** Hidden: what the sentinel execs when the supervisor is gone. Not for people. */
export function register(program: Command): void {
  program
    .command('__sentinel', { hidden: true })
    .argument('<run>')
    .option('--scope-fd <n>', 'the inherited file with the run scope the supervisor sent', Number)
    .option('--notify-fd <n>', "corral's stderr, for the summary", Number)
    .action(async (runId: string, opts: { scopeFd?: number; notifyFd?: number }) => {
      const { sentinelTeardown } = await import('../supervise/sentinel-teardown.ts');
      const fds = { scopeFd: validFd(opts.scopeFd), notifyFd: validFd(opts.notifyFd) };
      process.exitCode = await sentinelTeardown(runId, (s) => process.stderr.write(`${new Date().toISOString()} ${s}\n`), fds);
    });
}

function validFd(n: number | undefined): number | undefined {
  return n !== undefined && Number.isInteger(n) && n >= 0 ? n : undefined;
}
