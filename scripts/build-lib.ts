/*
 * `npm run build:lib` (run by prepack) → lib/: corral's sources compiled to JavaScript for the npm
 * package (Node does not strip types under node_modules). Files that are not TypeScript (the dashboard's
 * page, src/web/assets/) are copied beside the compiled modules, where those modules read them. lib/ is
 * made afresh, so a module removed from src/ does not linger in the package. Then lib/bundle/: each
 * command bundled from the same sources (scripts/build-bundle.ts --package).
 */
import { execFileSync } from 'node:child_process';
import { cpSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SRC = join(ROOT, 'src');
const LIB = join(ROOT, 'lib');

rmSync(LIB, { recursive: true, force: true });
execFileSync(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });

function copyAssets(dir: string): void {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) copyAssets(path);
    else if (!name.endsWith('.ts')) cpSync(path, join(LIB, relative(SRC, path)));
  }
}
copyAssets(SRC);

// each command as one CommonJS file as well (lib/bundle/, see scripts/build-bundle.ts): what bin/corral.js
// of the installed package runs, ~30 ms sooner than lib/'s separate modules
execFileSync(process.execPath, [join(ROOT, 'scripts', 'build-bundle.ts'), '--package', '--quiet'], { stdio: 'inherit' });
