import { main } from '../src/cli/main.ts';
import { GPU_HELPER_ARG, serveGpuProbes } from '../src/guard/gpu-helper.ts';

/*
 * The entry of the single-file binary (scripts/build-binary.ts bundles from here). Inside a single
 * executable, process.argv is [binary, binary, ...arguments], as for `node script.js ...arguments`, so
 * the arguments start at index 2 as in bin/corral.js. The binary is also the guard's GPU probe process
 * (which Node runs as a script file elsewhere): the guard starts it as `corral __gpu-helper`.
 */
if (process.argv[2] === GPU_HELPER_ARG && process.argv.length === 3) void serveGpuProbes();
else void main(process.argv.slice(2));
