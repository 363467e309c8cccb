import { isSea } from 'node:sea';
import { fileURLToPath } from 'node:url';

/**
 * The argv that starts this same corral again (the sentinel's teardown, `--detach`'s supervisor). The
 * single-file binary is its own program: re-executing Node with bin/corral.js would need a Node the
 * machine may not have. Otherwise it is this Node with bin/corral.js, beside src/ in a checkout and
 * beside lib/ in an installed package (the same depth from this file either way).
 */
export function selfCommand(execArgv: readonly string[] = []): [string, ...string[]] {
  if (isSea()) return [process.execPath];
  return [process.execPath, ...execArgv, fileURLToPath(new URL('../../bin/corral.js', import.meta.url))];
}
