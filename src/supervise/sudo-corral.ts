import { existsSync } from 'node:fs';
import { isSea } from 'node:sea';
import { join } from 'node:path';
import { quoteShell } from '../config/template.ts';
import { selfCommand } from './self-command.ts';

let cached: string | undefined;

/**
 * How a message's fix line runs this corral as root: `sudo corral ...` finds nothing where root's PATH
 * (sudo's secure_path) lacks the npm prefix, and root may find another corral first. An installed corral
 * (the single-file binary, or a package without src/) therefore names itself by absolute path, which
 * works under sudo whatever root's PATH is. A checkout keeps `sudo corral` (the development set-up).
 */
export function sudoCorral(): string {
  if (cached !== undefined) return cached;
  const self = selfCommand();
  const program = isSea() ? process.execPath : self[self.length - 1]!;
  const checkout = !isSea() && existsSync(join(program, '..', '..', 'src', 'cli', 'main.ts'));
  cached = `sudo ${checkout ? 'corral' : quoteShell(program)}`;
  return cached;
}
