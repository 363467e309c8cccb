import { createRequire } from 'node:module';

/*
 * The one place corral loads koffi (CommonJS), for every binding: ffi.ts, tty.ts, gpu/nvml-bindings.ts.
 * Callers load it lazily, so commands that never make a foreign call skip it. The single-file build
 * (scripts/build-binary.ts) swaps this module for scripts/sea-koffi.ts, which loads the native module
 * embedded in the binary: a bundle has no node_modules to resolve 'koffi' from.
 */
const require = createRequire(import.meta.url);

/** koffi's module object; `any` as before: each binding declares the narrow types of its own calls. */
export function requireKoffi(): any {
  return require('koffi');
}
