import { readFileSync } from 'node:fs';

/**
 * corral's version: package.json's, read where it lies beside src/ (a checkout) or lib/ (an installed
 * package), so that `--version` and the report never drift from what was published. The single-file
 * build (scripts/build-binary.ts) replaces this module with the literal version.
 */
export function packageVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return '?';
  }
}
