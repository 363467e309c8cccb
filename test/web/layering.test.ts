import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { test } from 'node:test';
import { ROOT } from '../helpers/corral.ts';

/*
 * The dashboard reads (strays, gpu, ledger, guard, and the CLI's --json builders so its API has the same
 * shapes); it never imports the supervisor and scheduler (src/jobs) nor terminal presentation (src/ui),
 * and its page's assets are files of its own, served from a fixed list.
 */
test('src/web imports neither src/jobs nor src/ui', () => {
  const dir = join(ROOT, 'src', 'web');
  const wrong: string[] = [];
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
    for (const m of readFileSync(join(dir, name), 'utf8').matchAll(/(?:from\s+|import\s*\(?)\s*'([^']+)'/g)) {
      const target = relative(join(ROOT, 'src'), join(dir, m[1]!));
      if (target.startsWith('jobs/') || target.startsWith('ui/')) wrong.push(`web/${name} imports ${target}`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('the page loads nothing from outside corral: every script and stylesheet is a path of its own', () => {
  const html = readFileSync(join(ROOT, 'src', 'web', 'assets', 'index.html'), 'utf8');
  const refs = [...html.matchAll(/(?:src|href)="([^"]+)"/g)].map((m) => m[1]!);
  assert.ok(refs.length >= 5);
  for (const r of refs) assert.match(r, /^\/[\w./-]+$/, r);
  const assets = readFileSync(join(ROOT, 'src', 'web', 'assets.ts'), 'utf8');
  for (const r of refs) assert.ok(assets.includes(`'${r}'`), `${r} is served`);
});
