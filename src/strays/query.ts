import type { Command } from 'commander';
import { parseDuration } from '../config/duration.ts';
import { UsageError } from '../config/errors.ts';
import { openLedgerToRead, type Db } from '../ledger/db.ts';
import { findRun } from '../ledger/runs.ts';
import { loadAllowList, type AllowList } from './allow-list.ts';
import { addStrayFilterOptions, applyStrayFilters, parseStrayFilters, type StrayFilterFlags, type StrayFilters } from './filters.ts';
import { ledgerViewOf } from './ledger-view.ts';
import { scanStrays, type StrayScan } from './scan.ts';
import type { Stray } from './types.ts';

export interface ScanFlags extends StrayFilterFlags {
  sample?: string;
  allowList?: string;
}

/** The options every scanning command shares: the filters, --sample and --allow-list. */
export function addScanOptions(cmd: Command, runHelp?: string): Command {
  return addStrayFilterOptions(cmd, runHelp)
    .option('--sample <dur>', 'watch CPU use of GPU holders this long, to find idle ones (e.g. 2s)')
    .option('--allow-list <file>', 'YAML/JSON allow-list of legitimate daemons (default: $CORRAL_HOME/strays-allow.yaml)');
}

export interface ScanQuery {
  db: Db;
  filters: StrayFilters;
  sampleMs?: number;
  allowList: AllowList;
}

/** Validates every flag and opens the ledger; throws UsageError before anything is scanned. */
export function prepareScan(flags: ScanFlags): ScanQuery {
  const sampleMs = flags.sample !== undefined ? parseDuration(flags.sample, '--sample') : undefined;
  if (sampleMs !== undefined && sampleMs > 600_000) throw new UsageError(`--sample ${flags.sample} is longer than 10m`, 'a few seconds tell an idle process from a busy one');
  const allowList = loadAllowList(flags.allowList);
  const db = openLedgerToRead();
  const filters = parseStrayFilters(flags, (ref) => findRun(db, ref)?.id);
  return { db, filters, sampleMs, allowList };
}

export async function runScan(q: ScanQuery): Promise<{ scan: StrayScan; strays: Stray[] }> {
  const scan = await scanStrays({ ledger: ledgerViewOf(q.db), allowList: q.allowList, sampleMs: q.sampleMs });
  return { scan, strays: applyStrayFilters(scan.strays, q.filters) };
}
