'use strict';
/*
 * How bin/corral.js loads a command's bundle (build/cli/X.cjs in a checkout, lib/bundle/X.cjs installed),
 * and how scripts/build-bundle.ts warms one up: one file for both, so the code cache the build writes is
 * made exactly the way bin reads it.
 *
 * The code cache: Node's compile cache (module.enableCompileCache) keeps only what V8 compiles before a
 * file runs, the top level; every function is compiled again, lazily, on its first call in each process.
 * For `corral run -- true` that was 68 KB cached against 319 KB once the run's functions had been
 * compiled, and 10-18 ms of start-up. So the build runs a command's bundle once (`corral run -q -- true`,
 * a small pool; in a scratch home) and writes V8's cache of everything compiled by then beside it:
 * X.cjs.cache. bin reads it, never writes it: nothing under a user's control (a shared /tmp, a home) is
 * ever run as code, and an installed package's cache is as much the package's as its code.
 *
 * A cache is used only for the bundle it was made from: its first line names the build (a random id the
 * build writes as the bundle's last line too), and V8 itself refuses a cache made for a source of another
 * length, by another V8 or under other V8 flags (NODE_OPTIONS with a V8 flag, for one). A refused or
 * missing cache costs only the compile it would have saved. A bundle without one loads through require(),
 * with Node's compile cache, as before.
 */
const { existsSync, readFileSync, writeFileSync } = require('node:fs');
const { createRequire } = require('node:module');
const { dirname } = require('node:path');
const vm = require('node:vm');

const TAG = '// corral-build ';

/**
 * V8 flags a command runs under, set before any of its code is compiled: V8 takes a code cache only under
 * the flags it was made with, so they cannot change after the bundle loads. `corral run` keeps its young
 * generation at the size start-up gave it (src/jobs/run-main.ts says why, and sets it again for a run
 * started from the sources).
 */
function setCommandFlags(word) {
  if (word === 'run') require('node:v8').setFlagsFromString('--semi-space-growth-factor=1');
}

/** The command word main() dispatches on: the first argument that is not an option. */
function commandWord(argv) {
  return argv.find((a) => !a.startsWith('-'));
}

/** The build id a bundle ends with, or null for a bundle without one. */
function buildId(source) {
  const at = source.lastIndexOf(TAG);
  return at < 0 ? null : source.slice(at + TAG.length).trim();
}

/** The V8 data of `file`.cache when its first line names this bundle's build; else undefined. */
function readCache(file, id) {
  if (id === null) return undefined;
  let data;
  try {
    data = readFileSync(`${file}.cache`);
  } catch {
    return undefined;
  }
  const nl = data.indexOf(10);
  return nl > 0 && data.toString('latin1', 0, nl) === `${TAG}${id}` ? data.subarray(nl + 1) : undefined;
}

/**
 * The bundle's exports; undefined when the file went away after its list was read (a rebuild under
 * way). `writeCache` (the build's warm-up only): at exit, write the code cache of everything compiled to
 * that path.
 */
function loadBundle(file, writeCache) {
  let source;
  try {
    source = readFileSync(file, 'utf8');
  } catch (e) {
    if (existsSync(file)) throw e;
    return undefined;
  }
  const id = buildId(source);
  const cachedData = writeCache ? undefined : readCache(file, id);
  const debug = process.env.CORRAL_DEBUG_BUNDLE === '1' ? (what) => process.stderr.write(`corral: ${file}: ${what}\n`) : () => {};
  if (!cachedData && !writeCache) {
    debug('no code cache of this build: loaded by require()');
    return createRequire(__filename)(file);
  }
  // what require() does for a CommonJS file, with V8's cache passed in: the same wrapper and arguments
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source}\n})`, {
    filename: file, cachedData, importModuleDynamically: vm.constants.USE_MAIN_CONTEXT_DEFAULT_LOADER,
  });
  if (cachedData) debug(script.cachedDataRejected ? 'code cache refused by V8 (another Node, or other V8 flags)' : 'code cache used');
  const mod = { exports: {}, id: file, filename: file, loaded: false };
  script.runInThisContext().call(mod.exports, mod.exports, createRequire(file), mod, file, dirname(file));
  mod.loaded = true;
  if (writeCache) process.once('exit', () => writeFileSync(writeCache, Buffer.concat([Buffer.from(`${TAG}${id}\n`, 'latin1'), script.createCachedData()])));
  return mod.exports;
}

/** The build's warm-up (scripts/build-bundle.ts, in a child process): runs `argv` from `file` as bin would, and writes `out`. */
function warmUp(file, out, argv) {
  setCommandFlags(commandWord(argv));
  return loadBundle(file, out).main(argv);
}

module.exports = { commandWord, loadBundle, setCommandFlags, warmUp, BUILD_TAG: TAG };
