import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/*
 * The one place corral loads koffi (CommonJS), for every binding: ffi.ts, tty.ts, gpu/nvml-bindings.ts.
 * Callers load it lazily, so commands that never make a foreign call skip it. The single-file build
 * (scripts/build-binary.ts) swaps this module for scripts/sea-koffi.ts, which loads the native module
 * embedded in the binary: a bundle has no node_modules to resolve 'koffi' from.
 *
 * On Linux x64/arm64 the native module is loaded directly, as koffi's own index.js would pick it (glibc
 * build, else the musl one; its version must be the package's). index.js also requires its prebuild
 * downloader's https, tls, zlib and crypto, about 15 ms of every `corral run`'s start-up, and adds only
 * deprecated aliases corral never calls. Anywhere else, or when the direct load fails, index.js decides.
 */
const require = createRequire(import.meta.url);

let koffi: any;

/** koffi's module object; `any` as before: each binding declares the narrow types of its own calls. */
export function requireKoffi(): any {
  koffi ??= loadNative() ?? require('koffi');
  return koffi;
}

function loadNative(): unknown {
  if (process.platform !== 'linux' || (process.arch !== 'x64' && process.arch !== 'arm64')) return undefined;
  try {
    const manifest = require.resolve('koffi/package.json');
    const { version } = require(manifest) as { version: string };
    const root = dirname(manifest);
    for (const libc of ['linux', 'musl']) {
      try {
        const native = require(join(root, 'build', 'koffi', `${libc}_${process.arch}`, 'koffi.node')) as { version?: string };
        if (native.version === version) return native;
      } catch {
        /* not this libc's build: the next one, then index.js */
      }
    }
  } catch {
    /* koffi not resolvable from here: index.js says why */
  }
  return undefined;
}
