import type { Command } from 'commander';

/** Hidden: what the sentinel execs when the supervisor is gone. Not for people. */
export function register(program: Command): void {
  program
    .command('__sentinel', { hidden: true })
    .argument('<run>')
    .action(async (runId: string) => {
      const { sentinelTeardown } = await import('../supervise/sentinel-teardown.ts');
      process.exitCode = await sentinelTeardown(runId, (s) => process.stderr.write(`${new Date().toISOString()} ${s}\n`));
    });
}
