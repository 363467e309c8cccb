import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/corral.ts';

/*
 * Terminal presentation (tables, colour, the live display) lives in src/ui and only the CLI imports it;
 * the scheduler and the reaper render nothing themselves (src/jobs/pool-run.ts takes an observer).
 */
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : []));
}

const IMPORT = /(?:from\s+|import\()\s*'([^']+)'/g;

test('only src/cli imports src/ui; src/jobs and src/reap import no rendering from src/cli', () => {
  const src = join(ROOT, 'src');
  const wrong: string[] = [];
  for (const file of sources(src)) {
    const rel = relative(src, file);
    const top = rel.split('/')[0]!;
    for (const m of readFileSync(file, 'utf8').matchAll(IMPORT)) {
      const target = relative(src, join(file, '..', m[1]!));
      if (target.startsWith('ui/') && top !== 'cli' && top !== 'ui') wrong.push(`${rel} imports ${target}`);
      if ((top === 'jobs' || top === 'reap') && target.startsWith('cli/')) wrong.push(`${rel} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});
