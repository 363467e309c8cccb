import { closeSync, writeSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../config/errors.ts';
import { openForCreate } from '../os/safe-open.ts';
import { enableCommands, guardUnit, UNIT_PATH } from './unit.ts';

/** Writes the unit (never through a link, never over a file without --force) and returns the enable commands. */
export function installUnit(f: { policy?: string; output?: string; force?: boolean }): { path: string; commands: string[] } {
  const root = process.geteuid?.() === 0;
  if (!f.output && !root) throw new UsageError(`writing ${UNIT_PATH} needs root`, 'run sudo corral guard install, or write the unit elsewhere with --output FILE');
  const path = f.output ? resolve(f.output) : UNIT_PATH;
  const fd = openForCreate(path, { force: Boolean(f.force), mode: 0o644 });
  try {
    writeSync(fd, guardUnit(undefined, f.policy ? resolve(f.policy) : undefined));
  } finally {
    closeSync(fd);
  }
  return { path, commands: enableCommands(path) };
}
