/*
 * `npm run build:bundle` (run by `npm ci` through prepare, and before the tests and the benchmarks) →
 * build/cli/COMMAND.cjs: each command of a checkout as one CommonJS file, with the command's own modules
 * only; build/cli/COMMAND.json: the source files it was made from, with their size and mtime (what
 * bin/corral.js checks, and the next build); build/manifest.json: what made them (this script and the
 * loader, for the next build).
 *
 * Why: `corral run -- true` spent 25-35 ms of its start-up loading ~80 separate ES modules (the loader's
 * work per module, and Node's ESM facade of each builtin, which loads getters such as fs.ReadStream's
 * streams). One CommonJS file per command, compiled once into Node's compile cache, loads in a fraction of
 * that (bench/analysis.md has the figures). The bundle is the same sources, unchanged; bin/corral.js
 * uses it only while every source file it was made from is unchanged (size and mtime), and runs src/
 * directly otherwise, so an edit is never hidden by a stale bundle. A checkout without build/ (no npm ci
 * yet, or CORRAL_NO_BUNDLE=1) runs src/ as before.
 *
 * What a bundle changes at load time, all the rest as in src/:
 * - node:sqlite's top-level `await import` (CommonJS has no top-level await) becomes a require, at the
 *   same point of evaluation (as in scripts/build-binary.ts);
 * - `import.meta.url` becomes the URL of the source file it was written in, computed from the bundle's
 *   own place at run time (a moved checkout still works), so `new URL('../../bin/corral.js', ...)` and
 *   the dashboard's assets resolve as they do from src/;
 * - in main.ts, every other command's `import('./X.ts')` becomes a module that says the bundle lacks it:
 *   bin/corral.js picks the bundle by the same command word main() dispatches on, so it is never called.
 *
 * Usage: node scripts/build-bundle.ts [--quiet] [--force] [--package]   (without --force, nothing is done
 * when build/ is up to date; --package writes lib/bundle/ for npm pack, after scripts/build-lib.ts)
 */
import type { Plugin } from 'esbuild';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
// --package (npm pack, after build-lib.ts): lib/bundle/X.cjs for the installed package, which has lib/ but
// no src/; a module's own URL is then its compiled file's under lib/, and nothing is checked for freshness
// (an installed package does not change).
const PACKAGE = process.argv.includes('--package');
const OUT = join(ROOT, PACKAGE ? join('lib', 'bundle') : 'build');
const CLI_OUT = PACKAGE ? '.' : 'cli';
const MAIN = join(ROOT, 'src', 'cli', 'main.ts');
const quiet = process.argv.includes('--quiet');
const log = (line: string) => quiet || process.stderr.write(`build-bundle: ${line}\n`);

/** The command words of main.ts's COMMANDS table, each with its module: `run: () => import('./run.ts')`. */
function commands(): Map<string, string> {
  const table = /const COMMANDS[^{]*\{([\s\S]*?)\n\};/.exec(readFileSync(MAIN, 'utf8'))?.[1];
  const found = new Map<string, string>();
  for (const m of (table ?? '').matchAll(/^\s*([\w]+):\s*\(\)\s*=>\s*import\('(\.\/[\w-]+\.ts)'\)/gm)) found.set(m[1]!, m[2]!);
  if (!found.has('run')) throw new Error(`build-bundle: no COMMANDS table with a run entry in ${MAIN}`);
  return found;
}

/** The three load-time changes described above; `keep` is the one command module main.ts may load. */
function bundleSources(keep: string, all: Map<string, string>): Plugin {
  const others = new Set([...all.values()].filter((m) => m !== keep));
  return {
    name: 'corral-bundle-sources',
    setup(b) {
      b.onResolve({ filter: /^\.\/[\w-]+\.ts$/ }, (args) => (args.importer === MAIN && others.has(args.path) ? { path: args.path, namespace: 'corral-absent' } : undefined));
      b.onLoad({ filter: /.*/, namespace: 'corral-absent' }, (args) => ({
        contents: `export function register() { throw new Error('corral: this bundle of corral has no ${args.path} (bin/corral.js picks the bundle by command)'); }\n`,
        loader: 'ts',
      }));
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const source = relative(ROOT, args.path).split('\\').join('/');
        const rel = PACKAGE ? source.replace(/^src\//, 'lib/').replace(/\.ts$/, '.js') : source;
        const text = readFileSync(args.path, 'utf8')
          .replaceAll("await import('node:sqlite')", "require('node:sqlite')")
          .replaceAll('import.meta.url', `__corralSourceUrl(${JSON.stringify(rel)})`);
        return { contents: text, loader: 'ts' };
      });
    },
  };
}

// build/cli/X.cjs and lib/bundle/X.cjs: the root is two directories up
const BANNER = [
  `'use strict';`,
  `const __corralRoot = require('node:path').join(__dirname, '..', '..');`,
  `function __corralSourceUrl(rel) { return require('node:url').pathToFileURL(require('node:path').join(__corralRoot, rel)).href; }`,
].join('\n');

// esbuild is a devDependency: an install without it (npm ci --omit=dev) has no bundles and runs src/ or lib/
let build: typeof import('esbuild').build;
try {
  ({ build } = await import('esbuild'));
} catch {
  log('esbuild is not installed (an install without devDependencies): no bundles; corral runs its sources directly');
  process.exit(0);
}

const table = commands();
const LOADER = join(ROOT, 'bin', 'bundle-loader.cjs');
// what makes the bundles besides their sources: this script, and the loader the code caches are made by
const builder = [fileURLToPath(import.meta.url), LOADER].flatMap((f) => {
  const st = statSync(f);
  return [st.size, st.mtimeMs];
});
const { BUILD_TAG } = createRequire(import.meta.url)(LOADER) as { BUILD_TAG: string };
// every bundle of this build ends with its id, and so does the first line of each code cache made here
const BUILD_ID = randomBytes(8).toString('hex');

/**
 * The commands whose start-up counts, each with the work its code cache is made from (bin/bundle-loader.cjs
 * says why): the run the start-up benchmark times, a small pool, and the read-only scan `strays --json` (the
 * scan benchmark times it; it signals nothing, and reads GPUs through /proc only here).
 */
const WARM_UPS: Record<string, string[]> = {
  run: ['run', '-q', '--', 'true'],
  pool: ['pool', '-q', '--jobs', '2', '--', 'true', ':::', '1', '2', '3'],
  strays: ['strays', '--json'],
};

/**
 * Runs `argv` once from the staged bundle, in a child Node as bin/corral.js would (no V8 flags beyond the
 * command's own: NODE_OPTIONS is dropped, as V8 would refuse the cache under other flags) with a scratch
 * corral home, and keeps the code cache it writes at exit. A warm-up that fails leaves no cache: the
 * command then compiles as it goes, as it did before caches existed.
 */
function warmUp(file: string, argv: string[]): void {
  const home = mkdtempSync(join(tmpdir(), 'corral-warm-up-'));
  const env: NodeJS.ProcessEnv = { ...process.env, CORRAL_HOME: home, NO_COLOR: '1', CORRAL_GPU_PROBES: 'procfs' };
  delete env.NODE_OPTIONS;
  try {
    const script = `require(${JSON.stringify(LOADER)}).warmUp(${JSON.stringify(file)}, ${JSON.stringify(`${file}.cache`)}, ${JSON.stringify(argv)})`;
    const r = spawnSync(process.execPath, ['-e', script], { env, stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', timeout: 60_000 });
    if (r.status !== 0 || !existsSync(`${file}.cache`)) {
      rmSync(`${file}.cache`, { force: true });
      log(`no code cache for ${relative(OUT, file)}: its warm-up (corral ${argv.join(' ')}) ${r.error ? r.error.message : `exited ${r.status ?? r.signal}`} ${r.stderr.trim()}`);
    }
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

/** True when build/ holds every command's bundle, made by this script from sources all unchanged since. */
function upToDate(): boolean {
  try {
    const old = JSON.parse(readFileSync(join(OUT, 'manifest.json'), 'utf8')) as typeof manifest;
    if (old.version !== 2 || JSON.stringify(old.builder) !== JSON.stringify(builder)) return false;
    const fresh = ([file, [size, mtime]]: [string, [number, number]]) => {
      const st = statSync(join(ROOT, file), { throwIfNoEntry: false });
      return st?.size === size && st.mtimeMs === mtime;
    };
    return [...table.keys()].every((word) => {
      if (!existsSync(join(OUT, CLI_OUT, `${word}.cjs`))) return false;
      const sources = JSON.parse(readFileSync(join(OUT, CLI_OUT, `${word}.json`), 'utf8')) as Record<string, [number, number]>;
      return Object.entries(sources).every(fresh);
    });
  } catch {
    return false;
  }
}
// Rebuilt only when something changed: a rebuild replaces build/ while other corral processes may be
// starting from it (npm pack's prepare during the tests), and it costs a second and a half.
if (!PACKAGE && !process.argv.includes('--force') && upToDate()) {
  log('bundles are up to date');
  process.exit(0);
}
const staging = `${OUT}.partial-${process.pid}`;
rmSync(staging, { recursive: true, force: true });
mkdirSync(join(staging, CLI_OUT), { recursive: true });
const manifest: { version: 2; builder: number[] } = { version: 2, builder };
try {
  for (const [word, module] of table) {
    const out = join(staging, CLI_OUT, `${word}.cjs`);
    const result = await build({
      stdin: { contents: `export { main } from ${JSON.stringify(MAIN)};\n`, resolveDir: ROOT, loader: 'ts', sourcefile: 'bundle-entry.ts' },
      absWorkingDir: ROOT, bundle: true, platform: 'node', format: 'cjs', target: 'node22', outfile: out, logLevel: 'error', metafile: true,
      external: ['koffi'], banner: { js: BANNER }, footer: { js: `${BUILD_TAG}${BUILD_ID}` }, plugins: [bundleSources(module, table)],
    });
    // the sources bin/corral.js checks before it runs the bundle (none in an installed package, which does not change)
    const sources: Record<string, [number, number]> = {};
    for (const input of Object.keys(result.metafile.inputs)) {
      if (PACKAGE || input.startsWith('corral-absent:') || input === 'bundle-entry.ts') continue;
      const st = statSync(join(ROOT, input));
      sources[input] = [st.size, st.mtimeMs];
    }
    writeFileSync(join(staging, CLI_OUT, `${word}.json`), `${JSON.stringify(sources)}\n`);
  }
  for (const [word, argv] of Object.entries(WARM_UPS)) if (table.has(word)) warmUp(join(staging, CLI_OUT, `${word}.cjs`), argv);
  writeFileSync(join(staging, 'manifest.json'), `${JSON.stringify(manifest)}\n`);
  rmSync(OUT, { recursive: true, force: true });
  renameSync(staging, OUT); // whole or not at all: bin/corral.js never sees half a build
} finally {
  rmSync(staging, { recursive: true, force: true });
}
log(`wrote ${table.size} bundles to ${join(relative(process.cwd(), OUT) || '.', CLI_OUT)}/`);
