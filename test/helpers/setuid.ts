import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FIXTURES } from './corral.ts';

/**
 * Builds the setuid-root helper that stands in for sudo (test/fixtures/setuid-helper.c) in a temp dir.
 * Null where that cannot be done here: not root, or no C compiler; callers skip and say so.
 */
export function buildSetuidHelper(): string | null {
  if (process.getuid?.() !== 0) return null;
  try {
    const dir = mkdtempSync(join(tmpdir(), 'corral-suid-'));
    chmodSync(dir, 0o755);
    // a setuid-root binary must not outlive the test process that built it
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    const out = join(dir, 'as-user');
    execFileSync('cc', ['-O', '-o', out, join(FIXTURES, 'setuid-helper.c')], { stdio: 'ignore' });
    chmodSync(out, 0o4755);
    return out;
  } catch (e) {
    if (process.env.CI === 'true') throw new Error(`cannot build the setuid helper: ${(e as Error).message}; under CI=true no test skips (.ci/run installs gcc)`);
    return null;
  }
}
