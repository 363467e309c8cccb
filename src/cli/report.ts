import { closeSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { openLedgerToRead } from '../ledger/db.ts';
import { openForCreate } from '../os/safe-open.ts';
import { resolveRunFlag } from '../ledger/refs.ts';
import { UsageError } from '../config/errors.ts';
import { addScanOptions, prepareScan, runScan, type ScanFlags } from '../strays/query.ts';
import { loadText, parseLang } from '../strays/text.ts';
import { say } from './output.ts';
import { packageVersion } from './version.ts';

export function register(program: Command): void {
  const cmd = program
    .command('report')
    .description('write the stray analysis report (Markdown): summary, then per stray its facts, parent, timeline, likely causes, checks and the reap command')
    .option('--out <file>', 'write the report to this new file (0600) instead of stdout; an existing file or a symbolic link is refused')
    .option('--force', 'with --out: replace an existing regular file of yours (a symbolic link is still refused)')
    .option('--lang <lang>', 'language: en (English) or zh (Simplified Chinese)', 'en');
  addScanOptions(cmd)
    .addHelpText('after', `
Examples:
  corral report                         to the terminal
  corral report --out strays.md         to a new file
  corral report --out strays.md --force  replace the last one
  corral report --lang zh --out 报告.md  in Simplified Chinese
  corral report --gpu 0 --sample 3s     only GPU 0's strays, with idle detection`)
    .action(async (flags: ScanFlags & { out?: string; lang?: string; force?: boolean }) => {
      const lang = parseLang(flags.lang);
      if (flags.out === '') throw new UsageError('--out is empty', 'give a file name: --out report.md');
      // one reference grammar: an unknown or ambiguous --run is a usage error, not an empty scan
      flags.run = resolveRunFlag(openLedgerToRead(), flags.run);
      const query = prepareScan(flags);
      const [text, { renderReport }] = await Promise.all([loadText(lang), import('../strays/report.ts')]);
      const { scan, strays } = await runScan(query);
      const md = renderReport(scan, strays, text, { version: packageVersion() });
      if (!flags.out) return void process.stdout.write(md);
      // never through a link a user planted, never over a file without --force: root may be the one writing
      const fd = openForCreate(flags.out, { force: Boolean(flags.force) });
      try {
        writeFileSync(fd, md);
      } finally {
        closeSync(fd);
      }
      say(`report on ${strays.length} stray(s) written to ${flags.out}`);
    });
}
